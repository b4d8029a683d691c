// execa is ~130 ES modules: loading it costs more start time than the whole auth layer.
// Every spawn path is async anyway, so it loads on the first spawn, not at start.
type Execa = typeof import('execa');

let loading: Promise<Execa> | undefined;

/** The execa module, imported once, on first use (the module cache makes it process-wide anyway). */
export function loadExeca(): Promise<Execa> {
  return (loading ??= import('execa'));
}
