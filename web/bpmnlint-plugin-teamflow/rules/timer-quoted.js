const { is } = require('bpmnlint-utils');
const text = require('./text');

// The engine evaluates timer definitions as Python: a literal ISO-8601 value must be quoted.
const ISO_LIKE = /^(R\d*\/)?(P[\dYMWDTHS.,]+|\d{4}-\d{2}-\d{2}\S*)(\/\S+)?$/;

module.exports = function() {
  function check(node, reporter) {
    if (!is(node, 'bpmn:TimerEventDefinition')) {
      return;
    }
    const owner = node.$parent;
    for (const kind of [ 'timeDuration', 'timeDate', 'timeCycle' ]) {
      const expression = node[kind];
      const body = expression && String(expression.body || '').trim();
      if (body && ISO_LIKE.test(body)) {
        reporter.report(owner.id, text('timer {kind} must be a quoted string such as "{value}"', { kind, value: body }));
      }
    }
  }

  return { check };
};
