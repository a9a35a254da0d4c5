// Change your own password (Django's password_change): the current one, then the new one twice.
import { api, ApiError } from '../../api.js';
import { navigate, type RouteContext } from '../../router.js';
import { currentUser } from '../../session.js';
import { h } from '../../ui/dom.js';
import { busy, clearErrors, field, input, showErrors } from '../../ui/form.js';
import { flash } from '../../ui/messages.js';
import { PASSWORD_RULES } from './types.js';

export function renderPasswordChange(ctx: RouteContext): void {
  ctx.setTitle('Password change');
  const me = currentUser();
  const current = input('currentPassword', { type: 'password', autocomplete: 'current-password', required: true, 'data-testid': 'current-password' });
  const password = input('password', { type: 'password', autocomplete: 'new-password', required: true, 'data-testid': 'new-password' });
  const password2 = input('password2', { type: 'password', autocomplete: 'new-password', required: true, 'data-testid': 'new-password2' });
  const form = h(
    'form',
    { class: 'edit password', novalidate: true },
    h('p', {}, 'Please enter your old password, for security’s sake, and then enter your new password twice so we can verify you typed it in correctly.'),
    h(
      'fieldset',
      { class: 'primary' },
      field({ name: 'currentPassword', label: 'Old password', required: true, control: current }),
      field({ name: 'password', label: 'New password', required: true, control: password, help: h('ul', { class: 'rules' }, ...PASSWORD_RULES.map((r) => h('li', {}, r))) }),
      field({ name: 'password2', label: 'New password confirmation', required: true, control: password2 }),
    ),
    h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'button', 'data-testid': 'change-password' }, 'Change my password')),
  );
  ctx.outlet.append(form);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearErrors(form);
    const errors: Record<string, string> = {};
    if (!current.value) errors.currentPassword = 'This field is required.';
    if (!password.value) errors.password = 'This field is required.';
    else if (password.value !== password2.value) errors.password2 = 'The two password fields didn’t match.';
    if (Object.keys(errors).length) return showErrors(form, new ApiError(400, 'invalid', 'Please correct the errors below.', errors));
    try {
      await busy(form, () => api.patch(`/api/v1/admin/users/${me.id}`, { password: password.value, currentPassword: current.value }));
      flash('success', 'Your password was changed.');
      navigate('/admin/');
    } catch (err) {
      if (!ctx.signal.aborted) showErrors(form, err as Error);
    }
  });
}
