// How every runner here ends, in one place because testAll.mjs and CI read it: exit with the
// code main resolves to; if main throws, print the error and `0 passed, 1 failed, 0 skipped`, so
// a runner that died before its suites reported still counts as a failure in the combined line.
export function runMain(main, { stack = false } = {}) {
  main().then(
    (c) => process.exit(c),
    (e) => {
      console.error(`\n${(stack && e.stack) || e.message}\n`);
      console.log('0 passed, 1 failed, 0 skipped');
      process.exit(1);
    },
  );
}
