const { is } = require('bpmnlint-utils');
const text = require('./text');

// A timer needs a duration, a date or a cycle (ISO 8601, quoted or bare, or a Python expression).
module.exports = function() {
  function check(node, reporter) {
    if (!is(node, 'bpmn:TimerEventDefinition')) {
      return;
    }
    const given = [ 'timeDuration', 'timeDate', 'timeCycle' ].some((kind) => (
      node[kind] && String(node[kind].body || '').trim()
    ));
    if (!given) {
      reporter.report(node.$parent.id, text('timer has no duration, date or cycle'));
    }
  }

  return { check };
};
