/**
 * The template each channel sends in place of a free-form message outside WhatsApp's 24-hour window (and after a
 * provider's "outside the window" failure). Twilio: WINDOW_TEMPLATE, a Content SID, with WINDOW_TEMPLATE_VARIABLES.
 * Meta: META_WINDOW_TEMPLATE, a template name, in META_WINDOW_TEMPLATE_LANGUAGE, with
 * META_WINDOW_TEMPLATE_VARIABLES. A channel without one refuses such messages (`outside_window`).
 */
import type { ChannelName } from '../domain/types.js';
import type { TemplateContent } from '../domain/window.js';
import type { Env } from './schema.js';

export function windowTemplates(env: Env, problems: string[]): Partial<Record<ChannelName, TemplateContent>> {
  const templates: Partial<Record<ChannelName, TemplateContent>> = {};
  if (env.WINDOW_TEMPLATE)
    templates.twilio = {
      type: 'template',
      templateId: env.WINDOW_TEMPLATE,
      variables: env.WINDOW_TEMPLATE_VARIABLES ?? {},
    };
  else if (env.WINDOW_TEMPLATE_VARIABLES)
    problems.push('WINDOW_TEMPLATE_VARIABLES: set WINDOW_TEMPLATE too (the template they fill)');
  if (env.META_WINDOW_TEMPLATE)
    templates.meta = {
      type: 'template',
      templateId: env.META_WINDOW_TEMPLATE,
      language: env.META_WINDOW_TEMPLATE_LANGUAGE,
      variables: env.META_WINDOW_TEMPLATE_VARIABLES ?? {},
    };
  else if (env.META_WINDOW_TEMPLATE_VARIABLES)
    problems.push('META_WINDOW_TEMPLATE_VARIABLES: set META_WINDOW_TEMPLATE too (the template they fill)');
  return templates;
}
