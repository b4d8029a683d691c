// What a clean quit of the desktop app does with ticket runs that are still working: their
// hosts outlive the app by design, so the user is asked whether to keep them going in the
// background or stop them, unless they chose once and for all. The Electron dialog itself
// is in main/app/main.ts; the decision is here, where it is tested.

export const QUIT_RUNS_SETTING = 'app.quitWithLiveRuns';

export type QuitRunsChoice = 'keep' | 'stop';

export interface QuitDialog {
  message: string;
  detail: string;
  buttons: string[];
  defaultId: number;
  cancelId: number;
  checkboxLabel: string;
}

/** Ask only when runs are live and no choice is remembered; otherwise the answer. */
export function quitRunsPlan(liveRuns: number, remembered: unknown): { ask: false; stopRuns: boolean } | { ask: true; dialog: QuitDialog } {
  if (liveRuns === 0) return { ask: false, stopRuns: false };
  if (remembered === 'keep' || remembered === 'stop') return { ask: false, stopRuns: remembered === 'stop' };
  const runs = liveRuns === 1 ? 'A ticket run is' : `${liveRuns} ticket runs are`;
  return {
    ask: true,
    dialog: {
      message: `${runs} still working. Keep ${liveRuns === 1 ? 'it' : 'them'} going in the background?`,
      detail:
        'Runs work in their own processes: kept, they go on after Symphony Desktop quits and show up again, still live, when it starts. ' +
        'Stopped, they end now (STOPPED) and Resume continues them later.',
      buttons: ['Keep running in the background', 'Stop runs and quit', 'Cancel'],
      defaultId: 0,
      cancelId: 2,
      checkboxLabel: 'Remember my choice',
    },
  };
}

/** The dialog's answer: `cancel` keeps the app open; `remember` says to store the choice. */
export function quitRunsAnswer(response: number, checkboxChecked: boolean): { choice: QuitRunsChoice | 'cancel'; remember: boolean } {
  const choice = response === 0 ? 'keep' : response === 1 ? 'stop' : 'cancel';
  return { choice, remember: checkboxChecked && choice !== 'cancel' };
}
