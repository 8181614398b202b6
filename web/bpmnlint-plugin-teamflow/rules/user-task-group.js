const { is } = require('bpmnlint-utils');
const knownGroups = require('./groups');
const text = require('./text');

function split(value) {
  return String(value || '').split(',').map((s) => s.trim()).filter(Boolean);
}

function laneOf(node) {
  let parent = node.$parent;
  while (parent && !is(parent, 'bpmn:Process') && !is(parent, 'bpmn:SubProcess')) {
    parent = parent.$parent;
  }
  const lanes = [];
  (function collect(laneSets) {
    for (const set of laneSets || []) {
      for (const lane of set.lanes || []) {
        lanes.push(lane);
        if (lane.childLaneSet) {
          collect([ lane.childLaneSet ]);
        }
      }
    }
  })(parent && parent.laneSets);
  const found = lanes.filter((lane) => (lane.flowNodeRef || []).includes(node));
  return found.length ? found[found.length - 1] : null;
}

function isExpression(value) {
  return /^[$#]\{/.test(value);
}

// Every user task goes to a known group: camunda:candidateGroups, an assignee, or a lane named after a group.
module.exports = function() {
  function check(node, reporter) {
    if (!is(node, 'bpmn:UserTask')) {
      return;
    }
    const known = knownGroups();
    const groups = split(node.get('camunda:candidateGroups'));
    for (const group of groups) {
      if (known && !isExpression(group) && !(group in known)) {
        reporter.report(node.id, text('candidate group {group} is not a known group', { group }));
      }
    }
    if (groups.length || node.get('camunda:assignee')) {
      return;
    }
    const lane = laneOf(node);
    const laneName = lane && (lane.name || lane.id);
    const laneKnown = laneName && (!known || laneName in known || Object.values(known).includes(laneName));
    if (!laneKnown) {
      reporter.report(node.id, text('has no candidate group, assignee or lane that maps to a known group'));
    }
  }

  return { check };
};
