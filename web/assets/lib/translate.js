// Canvas translations for the modeler, picked by locale.

import zhCanvas from 'bpmn-js-i18n/translations/zn.js';

import zhPanel from './panel-zh.js';

const TRANSLATIONS = { zh: { ...zhPanel, ...zhCanvas } };

/**
 * Return a bpmn-js module that translates canvas strings for `locale`,
 * or null when there is no translation (English stays the default).
 *
 * @param {string} [locale] e.g. "zh", "zh-CN", "en"
 */
export function translateModule(locale) {
  const language = String(locale || '').toLowerCase().split(/[-_]/)[0];
  const translations = TRANSLATIONS[language];
  if (!translations) {
    return null;
  }

  function translate(template, replacements = {}) {
    const text = translations[template] || template;
    return text.replace(/{([^}]+)}/g, (_, key) => (
      key in replacements ? replacements[key] : '{' + key + '}'
    ));
  }

  return { translate: [ 'value', translate ] };
}
