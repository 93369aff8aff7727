import { describe, expect, it } from 'vitest';
import { isWebUiArgv, parseHermesArgv, s6SuperviseSlot, splitCommandLine } from '../src/core/argv.js';

const gw = (argv: string[]) => parseHermesArgv(argv);

// The argv shapes Hermes's launchers produce: hermes_cli/gateway.py (generate_systemd_unit,
// generate_launchd_plist, _gateway_run_args_for_profile), hermes_cli/gateway_windows.py and
// hermes_cli/service_manager.py:_render_run_script at 306e2d2, and the hermes-studio gateway-runner.ts.
describe('matcher: gateway argv shapes seen in practice', () => {
  it.each([
    ['systemd unit (July)', ['/opt/venv/bin/python', '-m', 'hermes_cli.main', 'gateway', 'run'], null],
    ['systemd unit, profile', ['/opt/venv/bin/python', '-m', 'hermes_cli.main', '--profile', 'argus', 'gateway', 'run'], 'argus'],
    ['older unit with --replace', ['/usr/bin/python3', '-m', 'hermes_cli.main', 'gateway', 'run', '--replace'], null],
    ['launchd July', ['python', '-m', 'hermes_cli.main', '--profile', 'x', 'gateway', 'run', '--replace'], 'x'],
    ['Windows task', ['C:\\venv\\Scripts\\pythonw.exe', '-m', 'hermes_cli.main', 'gateway', 'run'], null],
    ['s6 default slot', ['hermes', 'gateway', 'run', '--replace'], null],
    ['s6 profile slot', ['/opt/hermes/.venv/bin/hermes', '-p', 'argus', 'gateway', 'run', '--replace'], 'argus'],
    ['console script under python', ['/venv/bin/python3', '/venv/bin/hermes', 'gateway', 'run', '--replace'], null],
    ['web UI (no -p)', ['python3', '-m', 'hermes_cli.main', 'gateway', 'run', '--replace'], null],
    ['-p=X spelling', ['hermes', '-p=argus', 'gateway', 'run'], 'argus'],
    ['--profile=X spelling', ['hermes', 'gateway', 'run', '--profile=argus'], 'argus'],
    ['profile after subcommand', ['hermes', 'gateway', 'run', '-p', 'argus'], 'argus'],
    ['hermes.exe', ['C:/x/hermes.exe', 'gateway', 'run'], null],
    ['python -u -X utf8 -m', ['python3.11', '-u', '-X', 'utf8', '-m', 'hermes_cli.main', 'gateway', 'run'], null],
    ['hermes_cli/main.py', ['python3', '/src/hermes_cli/main.py', 'gateway', 'run'], null],
  ])('%s is a gateway run', (_name, argv, profile) => {
    const c = gw(argv)!;
    expect(c).not.toBeNull();
    expect(c.command).toBe('gateway');
    expect(c.gatewaySub).toBe('run');
    expect(c.profile).toBe(profile);
    expect(c.direct).toBe(true);
  });

  it('a bare `hermes gateway` means run', () => {
    expect(gw(['hermes', 'gateway'])!.gatewaySub).toBe('run');
  });

  it('dedicated entry points are gateways', () => {
    expect(gw(['python3', '/opt/hermes/gateway/run.py'])!.gatewaySub).toBe('run');
    expect(gw(['/usr/local/bin/hermes-gateway'])!.gatewaySub).toBe('run');
    expect(gw(['C:\\hermes\\hermes-gateway.exe'])!.gatewaySub).toBe('run');
  });

  it('a profile literally named gateway is consumed by -p', () => {
    const c = gw(['hermes', '-p', 'gateway', 'gateway', 'run'])!;
    expect(c.profile).toBe('gateway');
    expect(c.gatewaySub).toBe('run');
    const d = gw(['hermes', '-p', 'gateway', 'status'])!;
    expect(d.command).toBe('status');
    expect(d.gatewaySub).toBeNull();
  });

  it('the incident argv: gateway restart --profile argus', () => {
    const c = gw(['/usr/local/lib/hermes/venv/bin/python', '-m', 'hermes_cli.main', 'gateway', 'restart', '--profile', 'argus'])!;
    expect(c.gatewaySub).toBe('restart');
    expect(c.profile).toBe('argus');
  });

  it('records gateway flags', () => {
    expect(gw(['hermes', 'gateway', 'run', '--replace', '--force'])!.flags).toEqual(['--replace', '--force']);
  });

  it.each([
    ['gateway status', ['hermes', 'gateway', 'status'], 'status'],
    ['gateway stop', ['hermes', '--profile', 'a', 'gateway', 'stop'], 'stop'],
    ['gateway install', ['hermes', 'gateway', 'install'], 'install'],
  ])('%s is not a runtime', (_n, argv, sub) => {
    expect(gw(argv)!.gatewaySub).toBe(sub);
  });

  it('launchd stderr wrapper (Aug-Sep) wraps the real gateway', () => {
    const c = gw([
      '/venv/bin/python', '-m', 'hermes_cli.stderr_timestamp', '--error-log', '/Users/a/.hermes/logs/gateway.error.log', '--',
      '/venv/bin/python', '-m', 'hermes_cli.main', '--profile', 'x', 'gateway', 'run', '--external-supervisor',
    ])!;
    expect(c.entry).toBe('stderr_timestamp');
    expect(c.command).toBe('wrapper');
    expect(c.wrapped!.gatewaySub).toBe('run');
    expect(c.profile).toBe('x');
  });

  it('launchers that stay alive as the parent are not direct', () => {
    expect(gw(['sudo', 'hermes', 'gateway', 'run'])!.direct).toBe(false);
    expect(gw(['doppler', 'run', '--', 'hermes', 'gateway', 'run'])!.direct).toBe(false);
    expect(gw(['python3', '-c', 'import x', '1234', 'python3', '-m', 'hermes_cli.main', 'gateway', 'run', '--replace'])!.direct).toBe(false);
  });
});

describe('matcher: other Hermes processes', () => {
  it('kanban worker argv of kanban_db._default_spawn', () => {
    const c = gw([
      '/venv/bin/python', '-m', 'hermes_cli.main', '-p', 'argus', '--cli', '--accept-hooks', '--skills', 'gateway', '-m', 'gpt',
      '--toolsets', 'a,b', 'chat', '-q', 'work kanban task t_abc123', '-Q',
    ])!;
    expect(c.command).toBe('chat');
    expect(c.kanbanTask).toBe('t_abc123');
    expect(c.profile).toBe('argus');
  });

  it('kanban daemon, dashboard, serve, tui', () => {
    expect(gw(['hermes', 'kanban', 'daemon', '--force', '--interval', '60'])!.kanbanSub).toBe('daemon');
    expect(gw(['hermes', 'dashboard', '--no-open'])!.command).toBe('dashboard');
    expect(gw(['python3', '/p/hermes', '--profile', 'x', 'serve', '--port', '0'])!.command).toBe('serve');
    expect(gw(['python', '-m', 'tui_gateway'])!.command).toBe('tui');
  });

  it('not Hermes at all', () => {
    expect(gw(['sqlite3', '/root/.hermes/kanban.db'])).toBeNull();
    expect(gw(['bash', '-c', 'hermes gateway run'])).toBeNull();
    expect(gw(['hermes-agent', 'chat'])).toBeNull();
    expect(gw([])).toBeNull();
  });

  it('odd argv bytes do not throw', () => {
    expect(gw(['\uFFFD\uFFFD', 'gateway', '\u0000'])).toBeNull();
    expect(gw(['hermes', 'gateway', 'run', '\uFFFD'])!.gatewaySub).toBe('run');
  });

  it('web UI and s6-supervise', () => {
    expect(isWebUiArgv(['node', '/usr/lib/node_modules/hermes-web-ui/dist/server/index.js'])).toBe(true);
    expect(isWebUiArgv(['node', 'server.js'])).toBe(false);
    expect(s6SuperviseSlot(['s6-supervise', 'gateway-argus'])).toBe('gateway-argus');
    expect(s6SuperviseSlot(['s6-supervise'])).toBeNull();
  });

  it('splits flat command lines like shlex non-POSIX', () => {
    expect(splitCommandLine('"C:\\Program Files\\py\\pythonw.exe" -m hermes_cli.main gateway run')).toEqual([
      '"C:\\Program Files\\py\\pythonw.exe"', '-m', 'hermes_cli.main', 'gateway', 'run',
    ]);
    const c = gw(splitCommandLine('/venv/bin/python -m hermes_cli.main gateway run HERMES_HOME=/Users/a/.hermes/profiles/x'));
    expect(c!.hermesHomeInArgv).toBe('/Users/a/.hermes/profiles/x');
  });
});
