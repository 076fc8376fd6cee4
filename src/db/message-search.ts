/**
 * Search across message text through the GIN index messages_content_search_idx (to_tsvector('simple', content)):
 * the conversations with a matching message, and the newest match of one conversation as a snippet.
 */
import { sql, type SQL } from 'drizzle-orm';
import { prefixTsQuery } from '../domain/search-query.js';

/** Marks around the matched words in a snippet (private-use characters: the view splits on them, escaping all). */
export const MATCH_START = '\uE000';
export const MATCH_END = '\uE001';

const HEADLINE_OPTIONS = `StartSel=${MATCH_START}, StopSel=${MATCH_END}, MaxWords=18, MinWords=8, MaxFragments=1`;

export interface TextSearch {
  /** The conversation `c` has a message matching. */
  condition: SQL;
  /** A column: the newest matching message of `c`, cut around the match. */
  snippet: SQL;
}

/** Null when the text holds no word to search for (only the number and name are searched then). */
export function textSearch(text: string): TextSearch | null {
  const query = prefixTsQuery(text);
  if (query === null) return null;
  const tsquery = sql`to_tsquery('simple', ${query})`;
  // Written exactly as the index expression, or PostgreSQL cannot use the index.
  const matches = sql`to_tsvector('simple', m.content) @@ ${tsquery}`;
  return {
    condition: sql`c.id in (select m.conversation_id from messages m where ${matches})`,
    snippet: sql`(select ts_headline('simple', m.content, ${tsquery}, ${HEADLINE_OPTIONS}) from messages m
      where m.conversation_id = c.id and ${matches} order by m.created_at desc, m.id desc limit 1)`,
  };
}
