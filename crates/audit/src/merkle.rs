//! Merkle trees as Certificate Transparency defines them (RFC 6962 section 2.1,
//! RFC 9162 section 2.1): leaf hash SHA-256(0x00 || leaf), node hash
//! SHA-256(0x01 || left || right), a tree of n leaves split at the largest
//! power of two below n. The same arithmetic as CT logs, so an auditor can
//! check aduan's checkpoints with any CT-style verifier.
//!
//! Why hand-written (issue 21, item 10): ct-merkle keeps its tree in memory or
//! names proof nodes by its own array indices, and rs_merkle keeps its tree in
//! memory and hashes nodes without RFC 6962's prefix unless given a hasher that
//! adds it. The roots would be the same bytes; the API is not. The store needs
//! what neither offers: a `Frontier` that grows without the leaves and proofs
//! built from the cached roots of aligned blocks (`inclusion_proof_by`), so a
//! crate would add translation code rather than remove any. The roots are
//! pinned to Certificate Transparency's reference vectors below.

use sha2::{Digest, Sha256};

pub type Hash = [u8; 32];

pub fn leaf_hash(leaf: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(leaf);
    h.finalize().into()
}

pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The largest power of two strictly below `n` (n >= 2).
pub(crate) fn split(n: usize) -> usize {
    debug_assert!(n >= 2);
    1 << (usize::BITS - 1 - (n - 1).leading_zeros())
}

/// The root of the tree over `leaves` (already leaf-hashed); the hash of
/// nothing for an empty tree.
pub fn root(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => Sha256::digest([]).into(),
        1 => leaves[0],
        n => {
            let k = split(n);
            node_hash(&root(&leaves[..k]), &root(&leaves[k..]))
        }
    }
}

/// A growing tree's right edge (RFC 9162's "compact range" from the left):
/// the roots of its perfect subtrees, largest first, one per set bit of the
/// size. Enough to append leaves and take roots without keeping the leaves.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Frontier {
    size: u64,
    nodes: Vec<Hash>,
}

impl Frontier {
    pub fn size(&self) -> u64 {
        self.size
    }

    #[allow(
        clippy::expect_used,
        reason = "the frontier holds one node per set bit of the tree size"
    )]
    pub fn push(&mut self, leaf: Hash) {
        let mut carry = leaf;
        let mut size = self.size;
        while size & 1 == 1 {
            let left = self.nodes.pop().expect("one node per set bit of the size");
            carry = node_hash(&left, &carry);
            size >>= 1;
        }
        self.nodes.push(carry);
        self.size += 1;
    }

    /// The root of the tree so far, as `root` computes it over all its leaves.
    pub fn root(&self) -> Hash {
        let mut nodes = self.nodes.iter().rev();
        let Some(last) = nodes.next() else {
            return Sha256::digest([]).into();
        };
        nodes.fold(*last, |right, left| node_hash(left, &right))
    }
}

/// The audit path of leaf `index` in a tree of `size` leaves, asking
/// `subtree(lo, hi)` for the root of leaves `lo..hi` (RFC 6962 2.1.1 over
/// ranges): every range asked is either a perfect subtree aligned on its size
/// or the tree's right edge, so a store can answer from cached subtree roots.
pub fn inclusion_proof_by(
    index: u64,
    size: u64,
    subtree: &mut dyn FnMut(u64, u64) -> Hash,
) -> Vec<Hash> {
    let mut path = Vec::new();
    let (mut lo, mut hi) = (0, size);
    let mut siblings = Vec::new();
    while hi - lo > 1 && index < hi {
        let k = split((hi - lo) as usize) as u64;
        if index < lo + k {
            siblings.push((lo + k, hi));
            hi = lo + k;
        } else {
            siblings.push((lo, lo + k));
            lo += k;
        }
    }
    // Found top-down; the path runs from the leaf's sibling up.
    for (a, b) in siblings.into_iter().rev() {
        path.push(subtree(a, b));
    }
    path
}

/// Some of a tree's leaves and the roots of its aligned blocks of `block`
/// leaves (a power of two): enough to answer any range `inclusion_proof_by`
/// asks for when the leaves at hand cover the proved leaf's block and the
/// partial block at the tree's end.
pub struct Blocks<'a> {
    pub block: u64,
    pub roots: &'a [Hash],
    pub leaves: &'a std::collections::HashMap<u64, Hash>,
}

impl Blocks<'_> {
    /// The root of leaves `lo..hi`, or `None` when a leaf it needs is not at hand.
    pub fn range_root(&self, lo: u64, hi: u64) -> Option<Hash> {
        let n = hi - lo;
        if n == 1 {
            return self.leaves.get(&lo).copied();
        }
        if n >= self.block && n.is_power_of_two() && lo.is_multiple_of(n) {
            let (a, b) = ((lo / self.block) as usize, (hi / self.block) as usize);
            return self.roots.get(a..b).map(root);
        }
        let k = split(n as usize) as u64;
        Some(node_hash(
            &self.range_root(lo, lo + k)?,
            &self.range_root(lo + k, hi)?,
        ))
    }
}

/// The audit path of leaf `index` in the tree over `leaves` (RFC 6962 2.1.1),
/// from the leaf's sibling up.
pub fn inclusion_proof(index: usize, leaves: &[Hash]) -> Vec<Hash> {
    let n = leaves.len();
    if n <= 1 || index >= n {
        return Vec::new();
    }
    let k = split(n);
    if index < k {
        let mut path = inclusion_proof(index, &leaves[..k]);
        path.push(root(&leaves[k..]));
        path
    } else {
        let mut path = inclusion_proof(index - k, &leaves[k..]);
        path.push(root(&leaves[..k]));
        path
    }
}

/// Whether `proof` shows that `leaf` (leaf-hashed) is at `index` in the tree
/// of `size` leaves whose root is `root` (RFC 9162 2.1.3.2).
pub fn verify_inclusion(index: u64, size: u64, leaf: &Hash, proof: &[Hash], root: &Hash) -> bool {
    if index >= size {
        return false;
    }
    let (mut fn_, mut sn) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if sn == 0 {
            return false;
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(p, &r);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    sn == 0 && &r == root
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(h: &Hash) -> String {
        h.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The test leaves of Certificate Transparency's reference implementation.
    fn leaves() -> Vec<Hash> {
        [
            "",
            "00",
            "10",
            "2021",
            "3031",
            "40414243",
            "5051525354555657",
            "606162636465666768696a6b6c6d6e6f",
        ]
        .iter()
        .map(|h| {
            let bytes: Vec<u8> = (0..h.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&h[i..i + 2], 16).unwrap())
                .collect();
            leaf_hash(&bytes)
        })
        .collect()
    }

    #[test]
    fn roots_match_the_reference_implementation() {
        let expected = [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
            "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
            "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
            "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
            "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
        ];
        let leaves = leaves();
        for (n, want) in expected.iter().enumerate() {
            assert_eq!(
                hex(&root(&leaves[..=n])),
                *want,
                "a tree of {} leaves",
                n + 1
            );
        }
        assert_eq!(
            hex(&root(&[])),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn every_leaf_of_every_tree_proves_its_inclusion_and_nothing_else_does() {
        let leaves = leaves();
        for size in 1..=leaves.len() {
            let tree = &leaves[..size];
            let top = root(tree);
            for (i, leaf) in tree.iter().enumerate() {
                let proof = inclusion_proof(i, tree);
                assert!(
                    verify_inclusion(i as u64, size as u64, leaf, &proof, &top),
                    "{i} of {size}"
                );
                // Another position, another leaf, another root: refused.
                if size > 1 {
                    let other = (i + 1) % size;
                    assert!(!verify_inclusion(
                        other as u64,
                        size as u64,
                        leaf,
                        &proof,
                        &top
                    ));
                    assert!(!verify_inclusion(
                        i as u64,
                        size as u64,
                        &tree[other],
                        &proof,
                        &top
                    ));
                }
                assert!(!verify_inclusion(
                    i as u64,
                    size as u64,
                    leaf,
                    &proof,
                    &leaf_hash(b"x")
                ));
                assert!(!verify_inclusion(
                    size as u64,
                    size as u64,
                    leaf,
                    &proof,
                    &top
                ));
            }
        }
    }

    #[test]
    fn a_frontier_grows_to_the_same_roots() {
        let leaves: Vec<Hash> = (0u32..300).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        let mut frontier = Frontier::default();
        assert_eq!(frontier.root(), root(&[]));
        for n in 1..=leaves.len() {
            frontier.push(leaves[n - 1]);
            assert_eq!(frontier.root(), root(&leaves[..n]), "{n} leaves");
        }
    }

    #[test]
    fn proofs_from_block_roots_match_proofs_from_all_leaves() {
        let leaves: Vec<Hash> = (0u32..77).map(|i| leaf_hash(&i.to_be_bytes())).collect();
        let block = 8u64;
        for size in [1usize, 2, 7, 8, 9, 16, 31, 64, 77] {
            let tree = &leaves[..size];
            let roots: Vec<Hash> = tree.chunks_exact(block as usize).map(root).collect();
            for index in 0..size as u64 {
                // Only the proved leaf's block and the tree's partial end block.
                let own = index / block * block;
                let tail = size as u64 / block * block;
                let at_hand: std::collections::HashMap<u64, Hash> = (own..own + block)
                    .chain(tail..size as u64)
                    .filter(|&i| i < size as u64)
                    .map(|i| (i, tree[i as usize]))
                    .collect();
                let blocks = Blocks {
                    block,
                    roots: &roots,
                    leaves: &at_hand,
                };
                let proof = inclusion_proof_by(index, size as u64, &mut |lo, hi| {
                    blocks.range_root(lo, hi).expect("every range at hand")
                });
                assert_eq!(
                    proof,
                    inclusion_proof(index as usize, tree),
                    "{index} of {size}"
                );
            }
        }
    }
}
