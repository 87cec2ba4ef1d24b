// The HTML shell every webview page gets: a strict CSP that admits only the extension's own
// files and one nonce'd script, the stylesheets, and an empty body the script fills. Pure (no
// vscode import) so the browser tests load the bundles in exactly this page.

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
  <script nonce="${attr(p.nonce)}" src="${attr(p.scriptUri)}"></script>
</body>
</html>
`;
}
