//! Which cases a run keeps: `--filter`/`--tag`/`--skip-tag`, and `--shard K/N`.

use std::collections::HashMap;

use super::{Plan, PlanOptions};

pub(super) fn apply_filters(plan: &mut Plan, opts: &PlanOptions) {
    let keep: Vec<bool> = plan
        .cases
        .iter()
        .map(|c| {
            let full = format!("{}/{}", plan.suites[c.suite].name, c.name);
            let name_ok =
                opts.names.is_empty() || opts.names.iter().any(|n| full.contains(n.as_str()));
            let tag_ok = opts.tags.is_empty() || c.tags.iter().any(|t| opts.tags.contains(t));
            let skip = c.tags.iter().any(|t| opts.skip_tags.contains(t));
            name_ok && tag_ok && !skip
        })
        .collect();
    if keep.iter().all(|k| *k) {
        return;
    }
    retain_cases(plan, &keep);
}

/// Keep the cases marked in `keep`, renumbered, with `needs` pointing at the new numbers (a
/// dropped prerequisite is dropped from `needs`).
fn retain_cases(plan: &mut Plan, keep: &[bool]) {
    let mut remap = vec![None; plan.cases.len()];
    let mut next = 0;
    for (i, k) in keep.iter().enumerate() {
        if *k {
            remap[i] = Some(next);
            next += 1;
        }
    }
    let cases = std::mem::take(&mut plan.cases);
    for (i, mut c) in cases.into_iter().enumerate() {
        if let Some(new) = remap[i] {
            c.index = new;
            c.needs = c.needs.iter().filter_map(|n| remap[*n]).collect();
            plan.cases.push(c);
        }
    }
}

/// Keep only shard `index` (1-based) of `count`: a deterministic slice of the plan.
///
/// Cases linked by `needs` (directly or through others) form a group that always lands in
/// one shard, so a prerequisite runs beside its dependents. Groups are taken in plan order
/// (suite files in the order loaded, which is sorted, then case order) and each goes to
/// the shard with the fewest cases so far (the lowest-numbered on a tie). Every shard must
/// be given the same suites, profile and filters so that all shards agree on the plan.
pub fn shard(plan: &mut Plan, index: usize, count: usize) {
    let n = plan.cases.len();
    if count <= 1 || n == 0 {
        return;
    }
    // Union-find over `needs`.
    let mut parent: Vec<usize> = (0..n).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    for (i, c) in plan.cases.iter().enumerate() {
        for &d in &c.needs {
            let (a, b) = (root(&mut parent, i), root(&mut parent, d));
            if a != b {
                parent[a.max(b)] = a.min(b);
            }
        }
    }
    // Groups in order of their first case; each to the least-loaded shard.
    let mut group_shard: HashMap<usize, usize> = HashMap::new();
    let mut group_size: HashMap<usize, usize> = HashMap::new();
    for i in 0..n {
        *group_size.entry(root(&mut parent, i)).or_default() += 1;
    }
    let mut load = vec![0usize; count];
    let mut keep = vec![false; n];
    for (i, k) in keep.iter_mut().enumerate() {
        let g = root(&mut parent, i);
        let s = *group_shard.entry(g).or_insert_with(|| {
            let s = (0..count).min_by_key(|&s| (load[s], s)).unwrap_or(0);
            load[s] += group_size[&g];
            s
        });
        *k = s + 1 == index;
    }
    retain_cases(plan, &keep);
}
