// The extension's settings (package.json contributes.configuration, title "VMem Debugger"), read
// in one place with their defaults so a missing or mistyped value never reaches the code.
import * as vscode from 'vscode';
import { MEMORY_MODES } from '../../engine/vm';
import type { MemoryMode } from '../../engine/vm';

export type AdapterMode = 'inline' | 'process' | 'server';

export interface UxSettings {
  adapterMode: AdapterMode;
  adapterPort: number;
  inlineValues: boolean;
  defaultMode: MemoryMode;
  logEvents: string[];
}

export function readSettings(scope?: vscode.ConfigurationScope): UxSettings {
  const c = vscode.workspace.getConfiguration('vmem', scope);
  const mode = c.get<string>('debugAdapter.mode', 'inline');
  const port = c.get<number>('debugAdapter.port', 4711);
  const dflt = c.get<string>('launch.defaultMode', 'native');
  const kinds = c.get<unknown>('launch.logEvents', []);
  return {
    adapterMode: mode === 'process' || mode === 'server' ? mode : 'inline',
    adapterPort: Number.isInteger(port) && port > 0 && port < 65536 ? port : 4711,
    inlineValues: c.get<boolean>('inlineValues.enabled', true) !== false,
    defaultMode: (MEMORY_MODES as readonly string[]).includes(dflt) ? (dflt as MemoryMode) : 'native',
    logEvents: Array.isArray(kinds) ? kinds.filter((k): k is string => typeof k === 'string') : [],
  };
}
