/**
 * Error categories and severities for the errors_total metric. The taxonomy (which AppError kind is which
 * category and severity) has one source of truth, the error reporter's table in errors/categorize.ts, so the
 * metric and the log line / admin alert of one failure always agree (a database outage is CRITICAL in both).
 * This module only adapts it for the metric: an error that is not an AppError is counted in the part of the
 * system that saw it when the caller knows it (AI, WHATSAPP), instead of always SYSTEM.
 */
import { isAppError } from '../domain/errors.js';
import {
  categorize,
  ERROR_CATEGORIES,
  SEVERITIES,
  type ErrorCategory,
  type Severity,
} from '../errors/categorize.js';

export { ERROR_CATEGORIES, type ErrorCategory };
export const ERROR_SEVERITIES = SEVERITIES;
export type ErrorSeverity = Severity;

export interface ErrorClass {
  category: ErrorCategory;
  severity: ErrorSeverity;
}

/**
 * The class of any thrown value: an AppError's comes from categorize(). An error that is not an AppError is
 * unexpected (a bug or a dependency failing in a way nobody mapped): HIGH, in `where` when the caller knows
 * which part it came from.
 */
export function classifyError(error: unknown, where: ErrorCategory = 'SYSTEM'): ErrorClass {
  if (!isAppError(error)) return { category: where, severity: 'HIGH' };
  const { category, severity } = categorize(error);
  return { category, severity };
}
