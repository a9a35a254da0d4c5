// Django's three save buttons and what happens after each, and its Delete button, shared by the change
// forms (users, groups, periodic tasks).
import { api } from '../api.js';
import { navigate } from '../router.js';
import { confirmDialog, type ConfirmOptions } from './confirm.js';
import { h } from './dom.js';
import { flash, notify } from './messages.js';

export function saveButtons(left?: HTMLElement | null): HTMLElement {
  return h(
    'div',
    { class: 'form-actions' },
    left ?? null,
    h('button', { type: 'submit', class: 'button secondary', value: '_addanother', 'data-testid': 'save-add' }, 'Save and add another'),
    h('button', { type: 'submit', class: 'button secondary', value: '_continue', 'data-testid': 'save-continue' }, 'Save and continue editing'),
    h('button', { type: 'submit', class: 'button', value: '_save', 'data-testid': 'save' }, 'Save'),
  );
}

/** The button that submitted the form ("_save" when Enter was pressed in a field). */
export const submitterOf = (event: Event): string => ((event as SubmitEvent).submitter as HTMLButtonElement | null)?.value || '_save';

export function afterSave(how: string, o: { noun: string; name: string; added: boolean; list: string; change: string; add: string; replace: boolean }): void {
  const what = `The ${o.noun} “${o.name}” was ${o.added ? 'added' : 'changed'} successfully.`;
  if (how === '_continue') {
    flash('success', `${what} You may edit it again below.`);
    navigate(o.change, { replace: o.replace });
  } else if (how === '_addanother') {
    flash('success', `${what} You may add another ${o.noun} below.`);
    navigate(o.add);
  } else {
    flash('success', what);
    navigate(o.list);
  }
}

/**
 * The change form's Delete: asks first, deletes, and says so on the list page.
 * `deleted` is the success message (given the DELETE's answer); `failed` the error shown when it fails.
 */
export function deleteButton<R = void>(o: {
  confirm: ConfirmOptions;
  url: string;
  list: string;
  deleted: (result: R) => string;
  failed?: (message: string) => string;
}): HTMLElement {
  const button = h('button', { type: 'button', class: 'button secondary danger left', 'data-testid': 'delete' }, 'Delete');
  button.addEventListener('click', async () => {
    if (!(await confirmDialog({ danger: true, ...o.confirm }))) return;
    try {
      flash('success', o.deleted(await api.delete<R>(o.url)));
      navigate(o.list);
    } catch (err) {
      const message = (err as Error).message;
      notify('error', o.failed ? o.failed(message) : message);
    }
  });
  return button;
}
