/**
 * The demo's only script, served at /page.js from this origin (the CSP allows
 * nothing else). The server never depends on it: each part only spares a
 * person a mistake or a chore.
 * - A form submits once: its buttons are disabled on submit, so a double
 *   click or a second tap sends one request. Back from the next page (the
 *   browser's page cache) enables them again.
 * - A form of the account page sends nothing in the first second after the
 *   page appears (or comes back from the page cache): that click was aimed
 *   at the page before (see page-shown-at.ts). The server answers such a
 *   post with a 204 anyway; here the form is not marked as sent, so its
 *   button still works a moment later. The page's clock starts after the
 *   server rendered it, so what this lets through the server accepts too.
 * - "Copy key" puts the setup key on the clipboard.
 * Times stay as the server wrote them, in UTC and saying so: rewritten into
 * the reader's zone they sat beside UTC ones in the same sentence.
 */
import { SHOWN_AT_FIELD, UNAIMED_CLICK_MS } from './page-shown-at.js';

export const PAGE_SCRIPT = `'use strict';
var shownAt = performance.now();
document.addEventListener('submit', function (event) {
  var form = event.target;
  if (form.querySelector('input[name=${SHOWN_AT_FIELD}]') && performance.now() - shownAt < ${UNAIMED_CLICK_MS}) { event.preventDefault(); return; }
  if (form.dataset.submitted === 'true') { event.preventDefault(); return; }
  form.dataset.submitted = 'true';
  form.querySelectorAll('button[type=submit]').forEach(function (button) {
    button.disabled = true;
    button.setAttribute('aria-busy', 'true');
  });
});
window.addEventListener('pageshow', function (event) {
  if (event.persisted) shownAt = performance.now();
  document.querySelectorAll('form[data-submitted]').forEach(function (form) {
    delete form.dataset.submitted;
    form.querySelectorAll('button[type=submit]').forEach(function (button) {
      button.disabled = false;
      button.removeAttribute('aria-busy');
    });
  });
});
document.querySelectorAll('button[data-copy]').forEach(function (button) {
  button.hidden = false;
  button.addEventListener('click', function () {
    var text = button.dataset.copy;
    var done = function () { button.textContent = 'Copied'; };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () {});
    } else {
      var field = document.createElement('textarea');
      field.value = text;
      document.body.appendChild(field);
      field.select();
      if (document.execCommand('copy')) done();
      field.remove();
    }
  });
});
`;
