// A modal confirmation (Django's "Are you sure?" page as a dialog).
import { h } from './dom.js';

export interface ConfirmOptions {
  title: string;
  message: string | Node;
  confirmLabel?: string;
  danger?: boolean;
}

export function confirmDialog(o: ConfirmOptions): Promise<boolean> {
  return new Promise((resolve) => {
    const cancel = h('button', { type: 'button', class: 'button secondary', 'data-testid': 'confirm-cancel' }, 'No, take me back');
    const ok = h('button', { type: 'submit', class: `button ${o.danger ? 'danger' : ''}`, 'data-testid': 'confirm-ok' }, o.confirmLabel ?? 'Yes, I’m sure');
    const dialog = h(
      'dialog',
      { class: 'confirm', 'aria-labelledby': 'confirm-title' },
      h('form', { method: 'dialog' }, h('h2', { id: 'confirm-title' }, o.title), h('div', { class: 'confirm-body' }, o.message), h('div', { class: 'actions' }, ok, cancel)),
    );
    const finish = (value: boolean) => {
      dialog.close();
      dialog.remove();
      resolve(value);
    };
    ok.addEventListener('click', (e) => {
      e.preventDefault();
      finish(true);
    });
    cancel.addEventListener('click', () => finish(false));
    dialog.addEventListener('cancel', (e) => {
      e.preventDefault();
      finish(false);
    });
    document.body.append(dialog);
    dialog.showModal();
    cancel.focus();
  });
}
