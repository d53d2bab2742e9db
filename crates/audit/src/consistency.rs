//! Consistency proofs (RFC 6962 section 2.1.2, RFC 9162 sections 2.1.4): that
//! the tree of `m` leaves a checkpoint signed is the first `m` leaves of a
//! later tree of `n`, shown with O(log n) hashes instead of every leaf. What a
//! monitor holding an old checkpoint asks for (docs/audit.md).

use super::merkle::{node_hash, root, split, Hash};

/// The consistency proof from the tree of the first `m` leaves to the tree
/// of `n` (0 < m <= n), asking `subtree(lo, hi)` for the root of leaves
/// `lo..hi`: RFC 9162's SUBPROOF(m, D[0:n], true). Every range asked is an
/// aligned perfect subtree or ends at `m` or `n`.
pub fn consistency_proof_by(
    m: u64,
    n: u64,
    subtree: &mut dyn FnMut(u64, u64) -> Hash,
) -> Vec<Hash> {
    let mut proof = Vec::new();
    if m == 0 || m >= n {
        return proof;
    }
    // SUBPROOF walked top-down: (lo, hi) is the current subtree, m the old
    // size's end inside it, `whole` whether the old tree is a whole subtree
    // the verifier already holds (true only while on the left spine).
    let (mut lo, mut hi, mut whole) = (0u64, n, true);
    let mut right_parts = Vec::new();
    loop {
        if m == hi {
            if !whole {
                right_parts.push(subtree(lo, hi));
            }
            break;
        }
        let k = split((hi - lo) as usize) as u64;
        if m <= lo + k {
            right_parts.push(subtree(lo + k, hi));
            hi = lo + k;
        } else {
            right_parts.push(subtree(lo, lo + k));
            lo += k;
            whole = false;
        }
    }
    // SUBPROOF appends on the way back up: the deepest node comes first.
    while let Some(h) = right_parts.pop() {
        proof.push(h);
    }
    proof
}

/// The consistency proof from `m` leaves to all of `leaves`.
pub fn consistency_proof(m: u64, leaves: &[Hash]) -> Vec<Hash> {
    consistency_proof_by(m, leaves.len() as u64, &mut |lo, hi| {
        root(&leaves[lo as usize..hi as usize])
    })
}

/// Whether `proof` shows that the tree of `m` leaves with root `old` is the
/// beginning of the tree of `n` leaves with root `new` (RFC 9162 2.1.4.2).
pub fn verify_consistency(m: u64, n: u64, old: &Hash, new: &Hash, proof: &[Hash]) -> bool {
    if m == 0 || m > n {
        return false;
    }
    if m == n {
        return proof.is_empty() && old == new;
    }
    let mut nodes: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if m.is_power_of_two() {
        nodes.push(*old);
    }
    nodes.extend_from_slice(proof);
    let Some((first, rest)) = nodes.split_first() else {
        return false;
    };
    let (mut fn_, mut sn) = (m - 1, n - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let (mut fr, mut sr) = (*first, *first);
    for c in rest {
        if sn == 0 {
            return false;
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while fn_ & 1 == 0 && fn_ != 0 {
                fn_ >>= 1;
                sn >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    sn == 0 && &fr == old && &sr == new
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::leaf_hash;

    fn leaves(n: u32) -> Vec<Hash> {
        (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect()
    }

    /// RFC 9162's SUBPROOF written as the RFC writes it, to hold the walk above to.
    fn subproof(m: usize, d: &[Hash], b: bool) -> Vec<Hash> {
        let n = d.len();
        if m == n {
            return if b { vec![] } else { vec![root(d)] };
        }
        let k = split(n);
        if m <= k {
            let mut p = subproof(m, &d[..k], b);
            p.push(root(&d[k..]));
            p
        } else {
            let mut p = subproof(m - k, &d[k..], false);
            p.push(root(&d[..k]));
            p
        }
    }

    #[test]
    fn every_pair_of_sizes_up_to_40_proves_consistency_and_nothing_else_does() {
        let all = leaves(40);
        for n in 1..=all.len() {
            let tree = &all[..n];
            let new = root(tree);
            for m in 1..=n {
                let old = root(&tree[..m]);
                let proof = consistency_proof(m as u64, tree);
                if m < n {
                    assert_eq!(proof, subproof(m, tree, true), "{m} -> {n}");
                } else {
                    assert!(proof.is_empty());
                }
                let (m64, n64) = (m as u64, n as u64);
                assert!(
                    verify_consistency(m64, n64, &old, &new, &proof),
                    "{m} -> {n}"
                );
                let other = leaf_hash(b"other");
                assert!(!verify_consistency(m64, n64, &other, &new, &proof));
                assert!(!verify_consistency(m64, n64, &old, &other, &proof));
                for i in 0..proof.len() {
                    let mut bad = proof.clone();
                    bad[i][0] ^= 1;
                    assert!(!verify_consistency(m64, n64, &old, &new, &bad), "node {i}");
                }
                if m < n {
                    let mut longer = proof.clone();
                    longer.push(other);
                    assert!(!verify_consistency(m64, n64, &old, &new, &longer));
                    assert!(!verify_consistency(m64, n64, &old, &new, &proof[1..]));
                }
            }
        }
    }

    #[test]
    fn a_tree_that_rewrote_its_past_has_no_proof() {
        let tree = leaves(13);
        let mut rewritten = tree.clone();
        rewritten[2] = leaf_hash(b"rewritten");
        let old = root(&tree[..5]);
        let proof = consistency_proof(5, &rewritten);
        assert!(!verify_consistency(5, 13, &old, &root(&rewritten), &proof));
    }

    #[test]
    fn proofs_from_block_roots_and_the_edge_blocks_match_proofs_from_all_leaves() {
        // What the store holds: block roots, and the leaves of the blocks
        // around the old tree's end and of the new tree's partial last block.
        use crate::merkle::Blocks;
        let all = leaves(77);
        let block = 8u64;
        for n in 1..=all.len() as u64 {
            let tree = &all[..n as usize];
            let roots: Vec<Hash> = tree.chunks_exact(block as usize).map(root).collect();
            for m in 1..=n {
                let block_of = |l: u64| (l / block * block, (l / block + 1) * block);
                let at_hand: std::collections::HashMap<u64, Hash> =
                    [block_of(m - 1), block_of(m), (n / block * block, n)]
                        .into_iter()
                        .flat_map(|(lo, hi)| lo..hi.min(n))
                        .map(|i| (i, tree[i as usize]))
                        .collect();
                let blocks = Blocks {
                    block,
                    roots: &roots,
                    leaves: &at_hand,
                };
                let proof = consistency_proof_by(m, n, &mut |lo, hi| {
                    blocks.range_root(lo, hi).expect("every range at hand")
                });
                assert_eq!(proof, consistency_proof(m, tree), "{m} -> {n}");
                assert_eq!(blocks.range_root(0, m), Some(root(&tree[..m as usize])));
            }
        }
    }
}
