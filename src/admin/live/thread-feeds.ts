/**
 * The live thread's source: one poller per conversation that has listeners in this process, shared by all of them.
 * It reads the conversation's newest messages from PostgreSQL about once a second, so a message stored by any
 * process (another web replica's webhook, a worker's reply, a delivery callback) reaches every open page. Each
 * listener is told what changed since it last heard: new messages, and messages whose rendering changed (a
 * delivery tick, an outcome). Reading the newest window, not "after the last seen id", also catches a row whose
 * transaction committed after a younger one.
 */
import type { Logger } from '../../log.js';

/** One message as a page shows it; `version` changes whenever its rendering does. */
export interface LiveMessage {
  id: string;
  version: string;
  html: string;
}

type Listener = (changed: LiveMessage[]) => void;

interface Feed {
  listeners: Map<Listener, Map<string, string>>;
  timer: NodeJS.Timeout | null;
  polling: boolean;
}

export interface ThreadFeeds {
  /** Start hearing a conversation's changes (the first call carries its whole window); returns the stop. */
  subscribe(conversationId: string, listener: Listener): () => void;
  /** Stop every poller (server shutdown). */
  close(): void;
}

export function threadFeeds(options: {
  load: (conversationId: string) => Promise<LiveMessage[]>;
  intervalMs: number;
  log: Logger;
}): ThreadFeeds {
  const feeds = new Map<string, Feed>();
  let closed = false;

  const schedule = (conversationId: string, feed: Feed, delayMs: number) => {
    if (closed || feed.timer || feed.listeners.size === 0) return;
    feed.timer = setTimeout(() => {
      feed.timer = null;
      void poll(conversationId, feed);
    }, delayMs);
    // An open page must not keep a stopping process alive.
    feed.timer.unref();
  };

  async function poll(conversationId: string, feed: Feed): Promise<void> {
    if (feed.polling) return;
    feed.polling = true;
    try {
      const window = await options.load(conversationId);
      for (const [listener, known] of feed.listeners) {
        const changed = window.filter((m) => known.get(m.id) !== m.version);
        for (const m of changed) known.set(m.id, m.version);
        if (changed.length > 0) listener(changed);
      }
    } catch (error) {
      options.log.warn({ err: error, conversationId }, 'live thread poll failed; trying again');
    } finally {
      feed.polling = false;
      if (feed.listeners.size > 0) schedule(conversationId, feed, options.intervalMs);
      else if (feeds.get(conversationId) === feed) feeds.delete(conversationId);
    }
  }

  return {
    subscribe(conversationId, listener) {
      let feed = feeds.get(conversationId);
      if (!feed) {
        feed = { listeners: new Map(), timer: null, polling: false };
        feeds.set(conversationId, feed);
      }
      feed.listeners.set(listener, new Map());
      // A new page hears its window at once, not after a full interval.
      if (feed.timer && !feed.polling) {
        clearTimeout(feed.timer);
        feed.timer = null;
      }
      schedule(conversationId, feed, 0);
      const subscribed = feed;
      return () => {
        subscribed.listeners.delete(listener);
        if (subscribed.listeners.size === 0 && !subscribed.polling) {
          if (subscribed.timer) clearTimeout(subscribed.timer);
          subscribed.timer = null;
          if (feeds.get(conversationId) === subscribed) feeds.delete(conversationId);
        }
      };
    },
    close() {
      closed = true;
      for (const feed of feeds.values()) {
        if (feed.timer) clearTimeout(feed.timer);
        feed.timer = null;
        feed.listeners.clear();
      }
      feeds.clear();
    },
  };
}
