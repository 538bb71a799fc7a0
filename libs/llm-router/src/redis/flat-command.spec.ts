import assert from 'node:assert/strict';
import { test } from 'node:test';
import { flatCommand } from './flat-command.js';

test('flatCommand: the command takes its arguments as given, without the copy through Array.prototype.flat', () => {
  const flat = Array.prototype.flat;
  let copies = 0;
  Array.prototype.flat = function (this: unknown[], ...depth: unknown[]) {
    copies++;
    return flat.apply(this, depth as [number?]);
  } as typeof flat;
  try {
    const args = ['llmr:records:journal', '*', 'r', '[1,"line"]'];
    const command = flatCommand('xadd', args);
    assert.equal(command.args, args, 'the very array');
    assert.equal(copies, 0);
    assert.equal(command.toWritable(undefined as never), '*5\r\n$4\r\nxadd\r\n$20\r\nllmr:records:journal\r\n$1\r\n*\r\n$1\r\nr\r\n$10\r\n[1,"line"]\r\n');
  } finally {
    Array.prototype.flat = flat;
  }
});
