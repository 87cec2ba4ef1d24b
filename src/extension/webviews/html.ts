// The HTML shell every webview page gets: a strict CSP that admits only the extension's own
// files and one nonce'd script, the stylesheets, and a body holding only a "Loading…" line the
// script replaces (so a page whose script never arrives is not blank). Also the page shown when
// the script never loads. Pure (no vscode import) so the browser tests load the bundles in
// exactly this page.
import { BOOT_ELEMENT_ID } from '../../webview/shared/messages';

export interface WebviewPage {
  title: string;
  /** `webview.cspSource`: the origin the extension's files are served from. */
  cspSource: string;
  nonce: string;
  scriptUri: string;
  styleUris: string[];
}

function attr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The Content-Security-Policy of every panel: no inline script or style, nothing from elsewhere. */
export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src ${cspSource}`,
    `font-src ${cspSource}`,
    `img-src ${cspSource} data:`,
  ].join('; ');
}

/**
 * The page a panel falls back to when its script did not load after several tries: text only,
 * no script and no stylesheet (those come through the same resource loader that failed).
 */
export function scriptFailedHtml(title: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="UTF-8">
  <meta http-equiv="Content-Security-Policy" content="default-src 'none'">
  <title>${attr(title)}</title>
</head>
<body>
  <h1>${attr(title)} could not load</h1>
  <p>The panel's script did not arrive: VS Code's webview resource loader (a service worker in the browser) did not answer, which can happen right after the page reloads with several webviews open.</p>
  <p>Switch to another tab and back to try again, close and reopen the panel, or run <strong>Developer: Reload Webviews</strong>.</p>
</body>
</html>
`;
}

export function webviewHtml(p: WebviewPage): string {
  const styles = p.styleUris.map((u) => `  <link rel="stylesheet" href="${attr(u)}">`).join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="UTF-8">
  <meta http-equiv="Content-Security-Policy" content="${attr(contentSecurityPolicy(p.cspSource, p.nonce))}">
  <meta name="viewport" content="width=device-width, initial-scale=1.0">
${styles}
  <title>${attr(p.title)}</title>
</head>
<body>
  <p id="${BOOT_ELEMENT_ID}" class="placeholder">Loading ${attr(p.title)}…</p>
  <script nonce="${attr(p.nonce)}" src="${attr(p.scriptUri)}"></script>
</body>
</html>
`;
}
