//! Merkle trees as Certificate Transparency defines them (RFC 6962 section 2.1,
//! RFC 9162 section 2.1): leaf hash SHA-256(0x00 || leaf), node hash
//! SHA-256(0x01 || left || right), a tree of n leaves split at the largest
//! power of two below n. The same arithmetic as CT logs, so an auditor can
//! check aduan's checkpoints with any CT-style verifier.

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
fn split(n: usize) -> usize {
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
}
