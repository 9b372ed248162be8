// Preloaded into a profiled server (`--profile`): SIGUSR2 exits normally, so that
// `node --cpu-prof` writes its profile (a signal's default action would lose it).
process.on('SIGUSR2', () => process.exit(0));
