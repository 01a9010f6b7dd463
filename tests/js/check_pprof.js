#!/usr/bin/env node
// Decodes a gzipped pprof profile with an independent decoder (Datadog's
// pprof-format, not dial9's protobuf code) and prints what the tests check,
// as one JSON object: sample types, per-type totals, function names, the
// locations with inlined lines, mappings, label keys, and every broken
// reference (an id or string index that points nowhere) in "errors".
//
//   node check_pprof.js FILE.pb.gz
//
// Exit status: 0 decoded (check "errors"), 1 unreadable or undecodable,
// 2 pprof-format is not installed (npm ci in tests/js).
'use strict';
const fs = require('fs');
const zlib = require('zlib');

let Profile;
try {
  ({ Profile } = require('pprof-format'));
} catch (e) {
  process.stderr.write(`check_pprof: the pprof-format module is missing (run npm ci in tests/js): ${e.message}\n`);
  process.exit(2);
}

function main() {
  const path = process.argv[2];
  if (!path) {
    process.stderr.write('usage: check_pprof.js FILE.pb.gz\n');
    process.exit(1);
  }
  let profile;
  try {
    profile = Profile.decode(zlib.gunzipSync(fs.readFileSync(path)));
  } catch (e) {
    process.stderr.write(`check_pprof: ${path}: ${e.message}\n`);
    process.exit(1);
  }
  const strings = profile.stringTable.strings;
  const errors = [];
  const str = (i, what) => {
    const n = Number(i);
    if (!(n >= 0 && n < strings.length)) {
      errors.push(`${what}: string index ${n} out of range`);
      return '';
    }
    return strings[n];
  };
  if (strings[0] !== '') errors.push('string_table[0] is not ""');
  const vt = (v) => (v ? [str(v.type, 'value type'), str(v.unit, 'value unit')] : null);

  const byId = (list, what) => {
    const map = new Map();
    for (const x of list) {
      const id = Number(x.id);
      if (id === 0) errors.push(`${what} with id 0`);
      if (map.has(id)) errors.push(`duplicate ${what} id ${id}`);
      map.set(id, x);
    }
    return map;
  };
  const functions = byId(profile.function, 'function');
  const locations = byId(profile.location, 'location');
  const mappings = byId(profile.mapping, 'mapping');

  const sampleTypes = profile.sampleType.map(vt);
  const totals = {};
  for (const t of sampleTypes) totals[t.join('/')] = 0;
  const labelKeys = new Set();
  for (const s of profile.sample) {
    if (s.value.length !== sampleTypes.length) errors.push(`a sample has ${s.value.length} values, not ${sampleTypes.length}`);
    s.value.forEach((v, i) => {
      if (i < sampleTypes.length) totals[sampleTypes[i].join('/')] += Number(v);
    });
    for (const id of s.locationId) {
      if (!locations.has(Number(id))) errors.push(`sample refers to missing location ${id}`);
    }
    for (const l of s.label) labelKeys.add(str(l.key, 'label key'));
  }

  // Each location's function names, innermost (leaf) first, as pprof orders them.
  const inlined = [];
  for (const loc of profile.location) {
    const mid = Number(loc.mappingId);
    if (mid !== 0 && !mappings.has(mid)) errors.push(`location ${loc.id} refers to missing mapping ${mid}`);
    if (loc.line.length === 0) errors.push(`location ${loc.id} has no lines`);
    const names = loc.line.map((ln) => {
      const fn = functions.get(Number(ln.functionId));
      if (!fn) {
        errors.push(`location ${loc.id} refers to missing function ${ln.functionId}`);
        return '?';
      }
      return str(fn.name, 'function name');
    });
    if (names.length > 1) inlined.push(names);
  }
  for (const m of profile.mapping) str(m.filename, 'mapping filename');

  const out = {
    sample_types: sampleTypes,
    default_sample_type: str(profile.defaultSampleType, 'default sample type'),
    period_type: vt(profile.periodType),
    period: Number(profile.period),
    samples: profile.sample.length,
    totals,
    functions: profile.function.map((f) => str(f.name, 'function name')),
    files: [...new Set(profile.function.map((f) => str(f.filename, 'function file')))].filter((f) => f),
    locations: profile.location.length,
    inlined_locations: inlined,
    mappings: profile.mapping.map((m) => ({
      filename: strings[Number(m.filename)] ?? null,
      build_id: strings[Number(m.buildId)] ?? null,
      memory_start: Number(m.memoryStart),
      memory_limit: Number(m.memoryLimit),
      has_functions: m.hasFunctions,
      has_inline_frames: m.hasInlineFrames,
    })),
    label_keys: [...labelKeys].sort(),
    comments: profile.comment.map((c) => str(c, 'comment')),
    duration_nanos: Number(profile.durationNanos),
    errors,
  };
  process.stdout.write(JSON.stringify(out) + '\n');
}

main();
