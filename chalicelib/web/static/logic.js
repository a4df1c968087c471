// The survey's conditions in the browser: a JSON Schema subset over the answers object, read as
// chalicelib/domain/logic.py reads it (tests/e2e/test_form_logic.py holds the two to agreement).
// Shared by the citizens' form (form.js) and the field app (field.js): one evaluator for both.
(() => {
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
const TYPES = { integer: Number.isInteger, number: v => typeof v === 'number', string: v => typeof v === 'string',
  boolean: v => typeof v === 'boolean', array: Array.isArray, object: v => v && typeof v === 'object' && !Array.isArray(v), null: v => v === null };
const holds = (s, v) => {
  if (s === true || s == null) return true;
  if (s === false) return false;
  const o = TYPES.object(v), a = Array.isArray(v), t = typeof v === 'string', n = typeof v === 'number';
  const len = () => [...v].length;
  return Object.keys(s).every(k => {
    const x = s[k];
    switch (k) {
      case 'required': return !o || x.every(p => p in v);
      case 'properties': return !o || Object.keys(x).every(p => !(p in v) || holds(x[p], v[p]));
      case 'const': return same(v, x);
      case 'enum': return x.some(e => same(v, e));
      case 'contains': return !a || v.some(e => holds(x, e));
      case 'items': return !a || v.every(e => holds(x, e));
      case 'minimum': return !n || v >= x;
      case 'maximum': return !n || v <= x;
      case 'exclusiveMinimum': return !n || v > x;
      case 'exclusiveMaximum': return !n || v < x;
      case 'minItems': return !a || v.length >= x;
      case 'maxItems': return !a || v.length <= x;
      case 'minLength': return !t || len() >= x;
      case 'maxLength': return !t || len() <= x;
      case 'pattern': return !t || new RegExp(x).test(v);
      case 'allOf': return x.every(y => holds(y, v));
      case 'anyOf': return x.some(y => holds(y, v));
      case 'not': return !holds(x, v);
      case 'type': return [].concat(x).some(y => TYPES[y] && TYPES[y](v));
      case 'if': return holds(x, v) ? holds(s.then, v) : holds(s.else, v);
      default: return true;
    }
  });
};
// The answers of a form's fields as the server reads them (chalicelib/web/forms.py): typed by the
// question's data-t, only enabled fields, a checkbox group as a list; `skip` names fields that are not answers.
const answersOf = (fields, container, skip) => {
  const a = {};
  const typeOf = i => (i.closest('[data-t]') || container).dataset.t;
  for (const i of fields) {
    const n = i.name, t = typeOf(i);
    if (!n || i.disabled || i.type === 'hidden' || (skip && skip.test(n))) continue;
    if (i.type === 'checkbox' && t !== 'consent') {
      if (i.checked && !(a[n] = a[n] || []).includes(i.value)) a[n].push(i.value);
    } else if (i.type === 'radio' || i.type === 'checkbox') {
      if (i.checked && !(n in a)) a[n] = t === 'consent' || i.value;
    } else if (i.value.trim()) {
      a[n] = t === 'integer' || t === 'decimal' ? +i.value : i.value;
    }
  }
  return a;
};
window.surveyLogic = { holds, answersOf };
})();
