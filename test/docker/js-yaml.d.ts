// js-yaml comes with ESLint (a dev dependency) and ships no types; these tests only need load().
declare module 'js-yaml' {
  export function load(text: string): unknown;
}
