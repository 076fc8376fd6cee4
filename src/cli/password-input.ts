/** Asking for a new account's password: at a terminal without echo (typed twice), or piped in on stdin. */
import { passwordProblem } from '../db/admin-users.js';
import { readStdin } from './context.js';
import { CliError, usageError } from './errors.js';
import { askHidden } from './prompt.js';

const TRIES = 3;

/** Ask until the answer has no problem, at most three times; then give up with exit 2. */
export async function retry(
  attempt: () => Promise<{ value: string; problem: string | null }>,
): Promise<string> {
  for (let i = 1; ; i += 1) {
    const { value, problem } = await attempt();
    if (!problem) return value;
    if (i === TRIES) throw new CliError(`${problem}; giving up after ${TRIES} tries`, 2);
    console.error(`✗ ${problem}`);
  }
}

/** A new password typed twice at the terminal, checked for strength and for a match. */
export function askNewPassword(): Promise<string> {
  return retry(async () => {
    const first = await askHidden('Password: ');
    const weak = passwordProblem(first);
    if (weak) return { value: first, problem: weak };
    const second = await askHidden('Password (again): ');
    return { value: first, problem: first === second ? null : 'the passwords do not match' };
  });
}

/** The password piped to stdin (without its final newline); a missing or weak one is a usage error. */
export async function passwordFromStdin(hint: string): Promise<string> {
  const password = await readStdin();
  if (!password) throw usageError(`no password given: ${hint}`);
  const weak = passwordProblem(password);
  if (weak) throw usageError(weak);
  return password;
}
