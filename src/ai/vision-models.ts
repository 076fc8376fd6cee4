/**
 * Whether a model sees images when its AI configuration does not say (`vision` null): the well-known families
 * that take image input on their providers today. A model missing here is treated as text-only; an operator
 * turns vision on with `chatbot ai-config update NAME --vision`.
 */
const VISION_MODELS: readonly RegExp[] = [
  /(^|\/)gpt-4o/i,
  /(^|\/)gpt-4\.1/i,
  /(^|\/)gpt-4-turbo/i,
  /(^|\/)gpt-5/i,
  /(^|\/)o[134](-|$)/i,
  /(^|\/)claude-(3|sonnet-4|opus-4|haiku-4|3-5|3-7)/i,
  /(^|\/)claude-.*-4/i,
  /(^|\/)gemini/i,
  /(^|\/)(llava|bakllava|moondream|pixtral|llama-3\.2-.*vision|qwen.*-vl|gemma-3)/i,
];

export function visionByDefault(model: string): boolean {
  return VISION_MODELS.some((pattern) => pattern.test(model));
}
