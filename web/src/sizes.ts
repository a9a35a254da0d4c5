// Thumbnail sizes: parsing and validation (pure), and the chip picker with a custom W x H input.
import { h, icon, ICONS } from './dom';

export interface Size {
  w: number;
  h: number;
}

export const PRESETS: Size[] = [64, 128, 256, 512, 1024].map((n) => ({ w: n, h: n }));
export const DEFAULT_ON = '128x128';

export const key = (s: Size): string => `${s.w}x${s.h}`;
export const label = (s: Size): string => `${s.w}×${s.h}`;

/** "300x200", "300 × 200", "300*200" or "300" (a square) → a Size, or a sentence saying what's wrong. */
export function parseSize(text: string, maxDimension: number): Size | string {
  const t = text.trim();
  if (!t) return 'Type a size such as 300x200.';
  const m = /^(\d+)\s*(?:[x×X*]\s*(\d+))?$/.exec(t);
  if (!m) return `“${t}” is not a size: use width x height, e.g. 300x200.`;
  const w = Number(m[1]);
  const hgt = Number(m[2] ?? m[1]);
  if (!Number.isSafeInteger(w) || !Number.isSafeInteger(hgt) || w < 1 || hgt < 1) {
    return 'Width and height must be whole numbers of at least 1.';
  }
  if (w > maxDimension || hgt > maxDimension) return `Width and height can be at most ${maxDimension} px.`;
  return { w, h: hgt };
}

interface Chip extends Size {
  on: boolean;
  custom: boolean;
}

export class SizePicker {
  private chips: Chip[] = PRESETS.map((s) => ({ ...s, on: key(s) === DEFAULT_ON, custom: false }));
  private maxSizes = 8;
  private maxDimension = 4096;

  constructor(
    private readonly list: HTMLElement,
    private readonly input: HTMLInputElement,
    addButton: HTMLButtonElement,
    private readonly message: HTMLElement,
    private readonly onChange: () => void,
  ) {
    addButton.addEventListener('click', () => this.addCustom());
    input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') {
        e.preventDefault();
        this.addCustom();
      }
    });
    input.addEventListener('input', () => this.say(''));
    this.say('');
    this.render();
  }

  setLimits(maxSizes: number, maxDimension: number): void {
    this.maxSizes = maxSizes;
    this.maxDimension = maxDimension;
    for (const c of this.chips) if (c.w > maxDimension || c.h > maxDimension) c.on = false;
    this.say('');
    this.render();
  }

  selected(): Size[] {
    return this.chips.filter((c) => c.on);
  }

  /** The `sizes` field: "128x128,256x256". */
  value(): string {
    return this.selected().map(key).join(',');
  }

  /** Why the current choice can't be sent, or '' when it can. */
  problem(): string {
    const n = this.selected().length;
    if (n === 0) return 'Choose at least one size.';
    if (n > this.maxSizes) return `Choose at most ${this.maxSizes} sizes.`;
    return '';
  }

  private addCustom(): void {
    const parsed = parseSize(this.input.value, this.maxDimension);
    if (typeof parsed === 'string') return this.say(parsed, true);
    const existing = this.chips.find((c) => key(c) === key(parsed));
    if (existing?.on) {
      this.input.value = '';
      return this.say(`${label(parsed)} is already selected.`);
    }
    if (this.selected().length >= this.maxSizes) {
      return this.say(`You can choose at most ${this.maxSizes} sizes; turn one off first.`, true);
    }
    if (existing) existing.on = true;
    else {
      this.chips.push({ ...parsed, on: true, custom: true });
      this.chips.sort((a, b) => a.w * a.h - b.w * b.h || a.w - b.w);
    }
    this.input.value = '';
    this.say(`Added ${label(parsed)}.`);
    this.render();
    this.onChange();
  }

  private toggle(chip: Chip): void {
    if (!chip.on && this.selected().length >= this.maxSizes) {
      return this.say(`You can choose at most ${this.maxSizes} sizes; turn one off first.`, true);
    }
    chip.on = !chip.on;
    this.say('');
    this.render(key(chip));
    this.onChange();
  }

  private remove(chip: Chip): void {
    this.chips = this.chips.filter((c) => c !== chip);
    this.say(`Removed ${label(chip)}.`);
    this.render();
    this.input.focus();
    this.onChange();
  }

  /** Show a message under the input; with no text, the resting hint about the limits. */
  private say(text: string, isError = false): void {
    this.message.textContent = text || `Up to ${this.maxSizes} sizes, each side at most ${this.maxDimension} px.`;
    this.message.classList.toggle('is-error', isError);
    this.input.setAttribute('aria-invalid', String(isError));
  }

  private render(focusKey?: string): void {
    this.list.replaceChildren(
      ...this.chips.map((chip) => {
        const tooBig = chip.w > this.maxDimension || chip.h > this.maxDimension;
        const toggle = h(
          'button',
          {
            type: 'button',
            'aria-pressed': String(chip.on),
            'data-size': key(chip),
            class: tooBig ? 'chip is-too-big' : 'chip',
            disabled: tooBig,
            title: tooBig ? `Larger than the server's ${this.maxDimension} px limit` : null,
          },
          icon(ICONS.check, 'icon chip-check'),
          label(chip),
        );
        toggle.addEventListener('click', () => this.toggle(chip));
        if (!chip.custom) return h('li', {}, toggle);
        const del = h('button', { type: 'button', class: 'chip-remove', 'aria-label': `Remove size ${label(chip)}` }, icon(ICONS.close));
        del.addEventListener('click', () => this.remove(chip));
        return h('li', { class: 'has-remove' }, toggle, del);
      }),
    );
    if (focusKey) this.list.querySelector<HTMLElement>(`[data-size="${focusKey}"]`)?.focus();
  }
}
