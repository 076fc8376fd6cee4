/** What every phase of the bench shares: the services, the run's size, the next free user numbers. */
import type { BenchDatabase } from './services.js';

export interface BenchContext {
  quick: boolean;
  database: BenchDatabase;
  redisUrl: string;
  /** Every key the run creates starts with this. */
  redisPrefix: string;
  /** Where CPU profiles go. */
  workDir: string;
  /** Allocates `count` sender numbers no other run of this bench has used, so conversations never mix. */
  users(count: number): number;
  /** A marker tag no other load of this run has used. */
  tag(): string;
  log(message: string): void;
}

export interface CpuShare {
  ms: number;
  cores: number;
}
