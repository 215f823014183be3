import { describe, expect, it } from 'vitest';
import { encodeLine } from './line-codec';
import { LineSplitter } from './line-splitter';
import { heartbeat } from './test-support';
import { MAX_LINE_BYTES } from './tail';

const RX = '2026-03-01T10:00:00.000Z';
const line = (seq: number) => encodeLine({ event: heartbeat('piha', seq), rx: RX });
/** One line of each kind: canonical, valid but not canonical (spaces, non-ASCII), corrupt. */
const MIXED = [
  line(1),
  line(2),
  `{"event": {"id":"piha-3","node":"piha","seq":3,"ts":"2026-01-01T00:00:00.000Z","type":"node_heartbeat","data":{"uptimeSec":3}}, "rx":"${RX}"}\n`,
  'not json at all\n',
  line(4).replace('"uptimeSec":4', '"uptimeSec":4,"note":"é"'),
  line(5),
].join('');

interface Split {
  seqs: number[];
  ends: number[];
  corrupt: number[];
  /** Bytes left unconsumed (an unfinished last line). */
  consumedTo: number;
}

/** Feeds `bytes` from offset `start` in chunks of `size` (then the rest), `max` records per take. */
function split(bytes: Buffer, size: number, start = 0, max?: number): Split {
  const out: Split = { seqs: [], ends: [], corrupt: [], consumedTo: start };
  const splitter = new LineSplitter('2026-03-01/piha.jsonl', start, (offset) => out.corrupt.push(offset));
  for (let at = 0; at < bytes.length; at += size) {
    // A reused buffer, as plainChunks hands out: whatever the splitter keeps must be a copy.
    const chunk = Buffer.from(bytes.subarray(at, at + size));
    splitter.push(chunk);
    for (let b = splitter.take(max); b.records.length > 0; b = splitter.take(max)) {
      out.seqs.push(...b.records.map((r) => r.event.seq));
      out.ends.push(...b.ends);
    }
    chunk.fill(0x78);
  }
  out.consumedTo = out.ends.at(-1) ?? start;
  return out;
}

describe('LineSplitter', () => {
  const bytes = Buffer.from(MIXED);
  const whole = split(bytes, bytes.length);

  it('decodes every complete line once, with its end offset, and reports the corrupt one at its offset', () => {
    expect(whole.seqs).toEqual([1, 2, 3, 4, 5]);
    expect(whole.ends.at(-1)).toBe(bytes.length);
    expect(whole.corrupt).toEqual([MIXED.indexOf('not json')]);
  });

  it('gives the same records, ends and corrupt offsets for every chunk size, lines straddling chunks included', () => {
    for (let size = 1; size <= bytes.length; size++) expect(split(bytes, size), `chunks of ${size} bytes`).toEqual(whole);
  });

  it('gives the same result one record per take, and from a start offset', () => {
    for (const size of [7, 64, 200]) expect(split(bytes, size, 0, 1)).toEqual(whole);
    const shifted = split(bytes, 50, 1000);
    expect(shifted.seqs).toEqual(whole.seqs);
    expect(shifted.ends).toEqual(whole.ends.map((e) => e + 1000));
    expect(shifted.corrupt).toEqual(whole.corrupt.map((e) => e + 1000));
  });

  it('keeps an unfinished last line unconsumed', () => {
    const cut = Buffer.concat([bytes, Buffer.from(line(6).slice(0, 40))]);
    for (const size of [1, 33, cut.length]) {
      const r = split(cut, size);
      expect(r.seqs).toEqual([1, 2, 3, 4, 5]);
      expect(r.consumedTo).toBe(bytes.length);
    }
  });

  it('reports a run of bytes without newline longer than any line once and resumes at the next line', () => {
    const garbage = Buffer.alloc(MAX_LINE_BYTES + 10, 0x61);
    const all = Buffer.concat([Buffer.from(line(1)), garbage, Buffer.from(`\n${line(2)}`)]);
    const r = split(all, 1024 * 1024);
    expect(r.seqs).toEqual([1, 2]);
    expect(r.corrupt).toEqual([line(1).length]);
    expect(r.ends).toEqual([line(1).length, all.length]);
  });
});
