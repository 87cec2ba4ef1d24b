// The webview side of the host channel: typed postMessage / state around acquireVsCodeApi (which
// may be called once per page).

interface VsCodeApi<S> {
  postMessage(message: unknown): void;
  getState(): S | undefined;
  setState(state: S): void;
}

declare function acquireVsCodeApi<S>(): VsCodeApi<S>;

export interface HostChannel<Intent, State> {
  post(intent: Intent): void;
  getState(): State | undefined;
  setState(state: State): void;
  /** Messages from the host (untyped until the caller checks them). */
  onMessage(listener: (data: unknown) => void): void;
}

export function hostChannel<Intent, State>(): HostChannel<Intent, State> {
  const api = acquireVsCodeApi<State>();
  return {
    post: (intent) => api.postMessage(intent),
    getState: () => api.getState(),
    setState: (s) => api.setState(s),
    onMessage: (listener) => window.addEventListener('message', (e: MessageEvent) => listener(e.data)),
  };
}
