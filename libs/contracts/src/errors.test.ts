import { describe, expect, it } from 'vitest';
import { CodedError, ERRORS, httpStatusOf, type Registered } from './errors';

class ProgramError extends CodedError<Registered<'not_found' | 'docker_unreachable'>> {
  override name = 'ProgramError';
}

describe('the error registry', () => {
  it.each(Object.entries(ERRORS))('gives %s an HTTP error status and a meaning', (_code, { status, meaning }) => {
    expect(status).toBeGreaterThanOrEqual(400);
    expect(status).toBeLessThan(600);
    expect(meaning.length).toBeGreaterThan(0);
  });

  it.each([
    ['not_found', 404],
    ['docker_unreachable', 503],
  ] as const)("gives a program's %s error the registered status %i and the body { error, message }", (code, status) => {
    const err = new ProgramError(code, 'what happened');
    expect(err.status).toBe(status);
    expect(httpStatusOf(code)).toBe(status);
    expect(err.toBody()).toEqual({ error: code, message: 'what happened' });
    expect(err).toBeInstanceOf(CodedError);
    expect(err.name).toBe('ProgramError');
  });
});
