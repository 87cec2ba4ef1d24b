// Stands in for VS Code's webview host in the browser tests: acquireVsCodeApi records what the
// page posts and keeps its state (a restored page's comes from ?state=); the theme class VS Code puts on <body> comes from ?theme=.
// Loaded with the page's nonce, before the bundle — no inline script, as in the real panel.
(function () {
  'use strict';
  var theme = new URLSearchParams(location.search).get('theme') || 'dark';
  var cls = { light: 'vscode-light', dark: 'vscode-dark', hc: 'vscode-high-contrast' }[theme] || 'vscode-dark';
  document.body.classList.add(cls);
  window.__sent = [];
  window.__csp = [];
  // ?state=<JSON>: what VS Code hands a restored panel's page (its last setState).
  var saved = new URLSearchParams(location.search).get('state');
  window.__state = saved === null ? undefined : JSON.parse(saved);
  document.addEventListener('securitypolicyviolation', function (e) {
    window.__csp.push(e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline') + ' at ' + e.sourceFile + ':' + e.lineNumber);
  });
  var acquired = false;
  window.acquireVsCodeApi = function () {
    if (acquired) throw new Error('acquireVsCodeApi called twice');
    acquired = true;
    return {
      postMessage: function (m) { window.__sent.push(JSON.parse(JSON.stringify(m))); },
      getState: function () { return window.__state; },
      setState: function (s) { window.__state = JSON.parse(JSON.stringify(s)); },
    };
  };
})();
