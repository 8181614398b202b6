// Shared helpers for marking elements on a rendered diagram.

/** Option key -> canvas marker class. */
export const MARKERS = {
  completed: 'tf-completed',
  active: 'tf-active',
  error: 'tf-error'
};

/**
 * Add a numeric badge to the top right of `element`.
 *
 * The badge text is built from a number only, never from markup.
 */
export function addBadge(overlays, element, value) {
  const count = Number(value);
  if (!Number.isFinite(count)) {
    return null;
  }

  const badge = document.createElement('span');
  badge.className = 'tf-badge';
  badge.textContent = String(Math.trunc(count));

  return overlays.add(element.id, 'tf-count', {
    position: { top: -10, right: 10 },
    html: badge
  });
}

/** Zoom the canvas so the whole diagram fits, centred. */
export function fitViewport(diagram) {
  const canvas = diagram.get('canvas');
  canvas.resized();
  canvas.zoom('fit-viewport', 'auto');
}
