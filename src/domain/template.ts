/**
 * What a Twilio Content template send may carry (wire facts §3): the Content SID `HX` + 32 hex digits, and
 * ContentVariables whose keys are numeric or alphanumeric (no spaces, at most 16 characters), at most 100 of
 * them, each value at most 1600 characters. Checked before anything is stored, so a bad request is refused
 * with its reason instead of failing later at Twilio.
 */

const CONTENT_SID = /^HX[0-9a-fA-F]{32}$/;
/** Meta's template names: lower-case letters, digits and underscores (WhatsApp Manager refuses others). */
const META_TEMPLATE_NAME = /^[a-z0-9_]{1,512}$/;
/** Meta's template language codes: `en`, `en_US`, `pt_BR`, `zh_HK`, … */
const META_LANGUAGE = /^[a-z]{2,3}(_[A-Z]{2})?$/;
export const DEFAULT_META_TEMPLATE_LANGUAGE = 'en_US';

export function isMetaTemplateName(name: string): boolean {
  return META_TEMPLATE_NAME.test(name);
}

export function isMetaTemplateLanguage(code: string): boolean {
  return META_LANGUAGE.test(code);
}
const VARIABLE_NAME = /^[A-Za-z0-9_]{1,16}$/;
export const MAX_TEMPLATE_VARIABLES = 100;
export const MAX_TEMPLATE_VALUE_LENGTH = 1600;

export function isContentSid(id: string): boolean {
  return CONTENT_SID.test(id);
}

export function isTemplateVariableName(name: string): boolean {
  return VARIABLE_NAME.test(name);
}

/** Why these variables cannot be sent, or null when they can. */
export function templateVariablesProblem(variables: Record<string, string>): string | null {
  const names = Object.keys(variables);
  if (names.length > MAX_TEMPLATE_VARIABLES)
    return `at most ${MAX_TEMPLATE_VARIABLES} variables, got ${names.length}`;
  for (const name of names) {
    if (!isTemplateVariableName(name))
      return `variable name "${name}": letters, digits or _, at most 16 characters`;
    const value = variables[name] ?? '';
    if (value.trim() === '') return `variable ${name} is empty`;
    if (value.length > MAX_TEMPLATE_VALUE_LENGTH)
      return `variable ${name} is longer than ${MAX_TEMPLATE_VALUE_LENGTH} characters`;
  }
  return null;
}
