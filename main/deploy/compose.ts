// The part of a compose file deploy needs: service names and the host ports they publish.
// A small line reader for the common layouts (short `"8080:80"` and long `target:/published:`
// port syntax, block and flow lists), not a YAML parser: anything else is simply not seen.

export interface ComposePort {
  published: number;
  target: number | null;
}

export interface ComposeService {
  name: string;
  ports: ComposePort[];
}

interface Line {
  indent: number;
  text: string;
}

export function composeServices(text: string): ComposeService[] {
  const lines = toLines(text);
  const start = lines.findIndex((line) => line.indent === 0 && /^services:\s*$/.test(line.text));
  if (start === -1) return [];
  const services: ComposeService[] = [];
  let serviceIndent = -1;
  let current: ComposeService | null = null;
  let portsIndent = -1;
  let longPort: Partial<ComposePort> | null = null;
  const flushLong = () => {
    if (current && longPort?.published) current.ports.push({ published: longPort.published, target: longPort.target ?? null });
    longPort = null;
  };
  for (const line of lines.slice(start + 1)) {
    if (line.indent === 0) break;
    if (serviceIndent === -1) serviceIndent = line.indent;
    if (line.indent === serviceIndent) {
      flushLong();
      portsIndent = -1;
      const name = /^([A-Za-z0-9._-]+):/.exec(line.text)?.[1];
      current = name ? { name, ports: [] } : null;
      if (current) services.push(current);
      continue;
    }
    if (!current) continue;
    const ports = /^ports:\s*(.*)$/.exec(line.text);
    if (ports && line.indent > serviceIndent && (portsIndent === -1 || line.indent <= portsIndent)) {
      flushLong();
      portsIndent = line.indent;
      const flow = /^\[(.*)\]$/.exec(ports[1].trim());
      if (flow) for (const item of flow[1].split(',')) addShort(current, item);
      continue;
    }
    if (portsIndent === -1) continue;
    if (line.indent < portsIndent || (line.indent === portsIndent && !line.text.startsWith('-'))) {
      flushLong();
      portsIndent = -1;
      continue;
    }
    const item = /^-\s*(.*)$/.exec(line.text);
    const body = item ? item[1] : line.text;
    if (item) flushLong();
    const field = /^(target|published):\s*["']?(\d+)/.exec(body);
    if (field) {
      longPort ??= {};
      longPort[field[1] as 'target' | 'published'] = Number(field[2]);
    } else if (item && !/^\w+:/.test(body)) {
      addShort(current, body);
    }
  }
  flushLong();
  return services;
}

/** `"127.0.0.1:8080:80/tcp"` → published 8080, target 80; a lone container port publishes nothing fixed. */
function addShort(service: ComposeService, spec: string): void {
  const parts = spec.trim().replace(/^["']|["']$/g, '').replace(/\/(tcp|udp)$/, '').split(':');
  if (parts.length < 2) return;
  const published = Number(parts[parts.length - 2].split('-')[0]);
  const target = Number(parts[parts.length - 1].split('-')[0]);
  if (Number.isInteger(published) && published > 0 && published < 65536) {
    service.ports.push({ published, target: Number.isInteger(target) ? target : null });
  }
}

function toLines(text: string): Line[] {
  const lines: Line[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const withoutComment = raw.replace(/(^|\s)#.*$/, '');
    if (!withoutComment.trim() || withoutComment.trim() === '---') continue;
    const indent = withoutComment.length - withoutComment.trimStart().length;
    lines.push({ indent, text: withoutComment.trim() });
  }
  return lines;
}
