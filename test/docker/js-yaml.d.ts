// js-yaml (a devDependency) ships no types; these tests only need load(), so this line instead of @types/js-yaml.
declare module 'js-yaml' {
  export function load(text: string): unknown;
}
