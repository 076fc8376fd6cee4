/** The sign-in form. */
import { html, type SafeHtml } from '../html.js';
import { csrfField, notice } from './components.js';
import { layout } from './layout.js';

export function loginPage(input: {
  csrfToken: string;
  next: string;
  username?: string;
  error?: string | undefined;
  info?: string | undefined;
}): SafeHtml {
  return layout(
    { title: 'Sign in' },
    html`<section class="login-card" aria-labelledby="login-title">
      <h1 id="login-title">Sign in</h1>
      <p class="muted">Use an account created with <code>chatbot createsuperuser</code>.</p>
      ${notice(input.error, 'bad')} ${notice(input.info, 'info')}
      <form method="post" action="/admin/login" class="form">
        ${csrfField(input.csrfToken)}
        <input type="hidden" name="next" value="${input.next}" />
        <div class="field">
          <label for="username">Username</label>
          <input
            id="username"
            name="username"
            autocomplete="username"
            required
            autofocus
            autocapitalize="none"
            spellcheck="false"
            value="${input.username ?? ''}"
          />
        </div>
        <div class="field">
          <label for="password">Password</label>
          <input id="password" name="password" type="password" autocomplete="current-password" required />
        </div>
        <button type="submit" class="button button-primary button-block">Sign in</button>
      </form>
    </section>`,
  );
}
