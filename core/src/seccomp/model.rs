//! The filter model: per architecture, which syscalls get which action on which argument
//! conditions. The policy layer builds it; the compiler turns it into BPF; [`ArchFilter::evaluate`]
//! is its meaning, against which compiled programs are tested.
//!
//! A syscall's decision is a list of *layers* evaluated in order. Each layer is a list of rules
//! (a conjunction of argument comparisons, then an outcome), first match wins; when no rule
//! matches, the layer's `otherwise` outcome applies. An outcome either ends the evaluation with an
//! action, or passes on to the next layer. After the last layer the syscall's final action
//! applies. A syscall without an entry gets the filter's default action.

use core::fmt;

use arrayvec::ArrayVec;

use super::{Action, SeccompData};
use crate::arch::{Arch, Word};
use crate::limits::{MAX_FILTER_LAYERS, MAX_FILTER_RULES, MAX_FILTER_SYSCALLS, MAX_RULE_CMPS};

/// How much of an argument a comparison looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Width {
    /// A C `int` (fds, flags, modes, ids): the low 32 bits only, on every ABI, because the upper
    /// half of a register holding an `int` is not guaranteed to be zero.
    Int,
    /// A `long` or pointer: all 64 bits on 64-bit ABIs, the low 32 bits on 32-bit ABIs.
    Long,
}

/// An unsigned comparison of an argument with a constant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmp {
    /// `arg == value`.
    Eq,
    /// `arg != value`.
    Ne,
    /// `arg < value`.
    Lt,
    /// `arg <= value`.
    Le,
    /// `arg > value`.
    Gt,
    /// `arg >= value`.
    Ge,
    /// `arg & mask == value`.
    MaskedEq(u64),
}

/// One argument comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArgCmp {
    /// Argument index, 0..=5.
    pub arg: u8,
    /// How much of the argument is compared.
    pub width: Width,
    /// The comparison.
    pub cmp: Cmp,
    /// The constant.
    pub value: u64,
}

impl ArgCmp {
    /// A comparison of a C `int` argument.
    pub const fn int(arg: u8, cmp: Cmp, value: u64) -> Self {
        ArgCmp {
            arg,
            width: Width::Int,
            cmp,
            value,
        }
    }

    /// The argument value as this comparison sees it on `word`-sized ABIs.
    pub fn operand(&self, word: Word, args: &[u64; 6]) -> u64 {
        let raw = args.get(usize::from(self.arg)).copied().unwrap_or(0);
        match (self.width, word) {
            (Width::Long, Word::W64) => raw,
            _ => raw & 0xffff_ffff,
        }
    }

    /// Whether the comparison holds for `args` on `word`-sized ABIs.
    pub fn holds(&self, word: Word, args: &[u64; 6]) -> bool {
        let a = self.operand(word, args);
        let v = self.value;
        match self.cmp {
            Cmp::Eq => a == v,
            Cmp::Ne => a != v,
            Cmp::Lt => a < v,
            Cmp::Le => a <= v,
            Cmp::Gt => a > v,
            Cmp::Ge => a >= v,
            Cmp::MaskedEq(mask) => a & mask == v,
        }
    }
}

/// What a rule or a layer does when it applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Then {
    /// End with this action.
    Act(Action),
    /// Go on with the next layer.
    Pass,
}

/// A conjunction of comparisons and its outcome.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    /// All must hold (an empty list always holds).
    pub cmps: ArrayVec<ArgCmp, MAX_RULE_CMPS>,
    /// The outcome when they do.
    pub then: Then,
}

impl Rule {
    /// A rule from a slice of comparisons; `None` if there are more than [`MAX_RULE_CMPS`].
    pub fn new(cmps: &[ArgCmp], then: Then) -> Option<Rule> {
        let cmps = ArrayVec::try_from(cmps).ok()?;
        Some(Rule { cmps, then })
    }
}

/// A layer as given to [`ArchFilter::push`].
#[derive(Clone, Copy, Debug)]
pub struct LayerSpec<'r> {
    /// Rules, first match wins.
    pub rules: &'r [Rule],
    /// The outcome when no rule matches.
    pub otherwise: Then,
}

#[derive(Clone, Copy, Debug)]
struct Layer {
    first_rule: u16,
    rules: u16,
    otherwise: Then,
}

#[derive(Clone, Copy, Debug)]
struct Entry {
    nr: u32,
    first_layer: u16,
    layers: u16,
    fin: Action,
}

/// A model that is full, or got a syscall twice: names the limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModelError {
    /// More syscalls than [`MAX_FILTER_SYSCALLS`].
    TooManySyscalls {
        /// The limit.
        limit: usize,
    },
    /// More layers than [`MAX_FILTER_LAYERS`].
    TooManyLayers {
        /// The limit.
        limit: usize,
    },
    /// More rules than [`MAX_FILTER_RULES`].
    TooManyRules {
        /// The limit.
        limit: usize,
    },
    /// A rule with more comparisons than [`MAX_RULE_CMPS`].
    TooManyComparisons {
        /// The limit.
        limit: usize,
    },
    /// The same syscall number was pushed twice.
    Duplicate {
        /// The number.
        nr: u32,
    },
}

impl fmt::Display for ModelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            ModelError::TooManySyscalls { limit } => {
                write!(f, "filter has more than {limit} syscalls with rules")
            }
            ModelError::TooManyLayers { limit } => {
                write!(f, "filter has more than {limit} rule layers")
            }
            ModelError::TooManyRules { limit } => write!(f, "filter has more than {limit} rules"),
            ModelError::TooManyComparisons { limit } => {
                write!(f, "a rule has more than {limit} argument comparisons")
            }
            ModelError::Duplicate { nr } => write!(f, "syscall {nr} given twice"),
        }
    }
}

/// The filter of one architecture.
///
/// Limits: [`MAX_FILTER_SYSCALLS`] syscalls, [`MAX_FILTER_LAYERS`] layers and
/// [`MAX_FILTER_RULES`] rules.
#[derive(Clone)]
pub struct ArchFilter {
    /// The architecture.
    pub arch: &'static Arch,
    /// The action for syscalls without an entry.
    pub default: Action,
    /// Number ranges (first, last) answered with `unknown_action` before anything else: the
    /// numbers beyond the architecture's table, i.e. syscalls newer than the tables.
    unknown: heapless::Vec<(u32, u32), 4>,
    /// The action for numbers in `unknown`.
    pub unknown_action: Action,
    entries: heapless::Vec<Entry, MAX_FILTER_SYSCALLS>,
    layers: heapless::Vec<Layer, MAX_FILTER_LAYERS>,
    rules: heapless::Vec<Rule, MAX_FILTER_RULES>,
}

impl ArchFilter {
    /// An empty filter: every syscall gets `default`.
    pub fn new(arch: &'static Arch, default: Action) -> Self {
        ArchFilter {
            arch,
            default,
            unknown: heapless::Vec::new(),
            unknown_action: default,
            entries: heapless::Vec::new(),
            layers: heapless::Vec::new(),
            rules: heapless::Vec::new(),
        }
    }

    /// Adds syscall `nr` with its layers and final action. Entries may come in any order; each
    /// number at most once. On error the filter is unchanged.
    pub fn push(
        &mut self,
        nr: u32,
        layers: &[LayerSpec<'_>],
        fin: Action,
    ) -> Result<(), ModelError> {
        let pos = match self.entries.binary_search_by_key(&nr, |e| e.nr) {
            Ok(_) => return Err(ModelError::Duplicate { nr }),
            Err(pos) => pos,
        };
        if self.entries.is_full() {
            return Err(ModelError::TooManySyscalls {
                limit: MAX_FILTER_SYSCALLS,
            });
        }
        let n_rules: usize = layers.iter().map(|l| l.rules.len()).sum();
        if self.layers.len() + layers.len() > MAX_FILTER_LAYERS {
            return Err(ModelError::TooManyLayers {
                limit: MAX_FILTER_LAYERS,
            });
        }
        if self.rules.len() + n_rules > MAX_FILTER_RULES {
            return Err(ModelError::TooManyRules {
                limit: MAX_FILTER_RULES,
            });
        }
        let too_many = || ModelError::TooManyRules {
            limit: MAX_FILTER_RULES,
        };
        let first_layer = u16::try_from(self.layers.len()).map_err(|_| too_many())?;
        for l in layers {
            let first_rule = u16::try_from(self.rules.len()).map_err(|_| too_many())?;
            for r in l.rules {
                self.rules.push(r.clone()).map_err(|_| too_many())?;
            }
            let rules = u16::try_from(l.rules.len()).map_err(|_| too_many())?;
            self.layers
                .push(Layer {
                    first_rule,
                    rules,
                    otherwise: l.otherwise,
                })
                .map_err(|_| too_many())?;
        }
        let n_layers = u16::try_from(layers.len()).map_err(|_| too_many())?;
        self.entries
            .insert(
                pos,
                Entry {
                    nr,
                    first_layer,
                    layers: n_layers,
                    fin,
                },
            )
            .map_err(|_| ModelError::TooManySyscalls {
                limit: MAX_FILTER_SYSCALLS,
            })
    }

    /// Answers the numbers of `ranges` (first, last; at most four) with `action`, before any
    /// entry: for syscalls the tables do not know. Errors: more than four ranges.
    pub fn set_unknown(&mut self, ranges: &[(u32, u32)], action: Action) -> Result<(), ModelError> {
        self.unknown = heapless::Vec::from_slice(ranges)
            .map_err(|_| ModelError::TooManyLayers { limit: 4 })?;
        self.unknown_action = action;
        Ok(())
    }

    /// The ranges of [`ArchFilter::set_unknown`].
    pub fn unknown(&self) -> &[(u32, u32)] {
        &self.unknown
    }

    /// The syscalls with entries, in ascending number order.
    pub fn syscalls(&self) -> impl Iterator<Item = SyscallView<'_>> + '_ {
        self.entries.iter().map(move |e| SyscallView {
            filter: self,
            entry: *e,
        })
    }

    /// The entry of syscall `nr`, if it has one.
    pub fn syscall(&self, nr: u32) -> Option<SyscallView<'_>> {
        let i = self.entries.binary_search_by_key(&nr, |e| e.nr).ok()?;
        let entry = *self.entries.get(i)?;
        Some(SyscallView {
            filter: self,
            entry,
        })
    }

    /// The action for `data`, assuming its architecture (and x32 bit) belongs to this filter.
    pub fn evaluate(&self, nr: u32, args: &[u64; 6]) -> Action {
        if self.unknown.iter().any(|&(lo, hi)| (lo..=hi).contains(&nr)) {
            return self.unknown_action;
        }
        match self.syscall(nr) {
            Some(s) => s.evaluate(self.arch.word, args),
            None => self.default,
        }
    }
}

/// One syscall's entry in an [`ArchFilter`].
#[derive(Clone, Copy)]
pub struct SyscallView<'f> {
    filter: &'f ArchFilter,
    entry: Entry,
}

/// One layer of a syscall, as seen through [`SyscallView::layers`].
#[derive(Clone, Copy, Debug)]
pub struct LayerView<'f> {
    /// Rules, first match wins.
    pub rules: &'f [Rule],
    /// The outcome when no rule matches.
    pub otherwise: Then,
}

impl<'f> SyscallView<'f> {
    /// The syscall number.
    pub fn nr(&self) -> u32 {
        self.entry.nr
    }

    /// The action after the last layer.
    pub fn fin(&self) -> Action {
        self.entry.fin
    }

    /// The layers in order.
    pub fn layers(&self) -> impl Iterator<Item = LayerView<'f>> + 'f {
        let start = usize::from(self.entry.first_layer);
        let filter = self.filter;
        filter
            .layers
            .get(start..start + usize::from(self.entry.layers))
            .unwrap_or(&[])
            .iter()
            .map(move |l| {
                let first = usize::from(l.first_rule);
                LayerView {
                    rules: filter
                        .rules
                        .get(first..first + usize::from(l.rules))
                        .unwrap_or(&[]),
                    otherwise: l.otherwise,
                }
            })
    }

    /// Whether two entries decide identically (same layers and final action), so that they can
    /// share compiled code.
    // Out of line: inlined, it made the `syd` binary bigger (size budget).
    #[inline(never)]
    pub fn same_decision(&self, other: &SyscallView<'_>) -> bool {
        self.entry.fin == other.entry.fin
            && self.entry.layers == other.entry.layers
            && self
                .layers()
                .zip(other.layers())
                .all(|(a, b)| a.otherwise == b.otherwise && a.rules == b.rules)
    }

    /// The action for these arguments (the model's meaning).
    pub fn evaluate(&self, word: Word, args: &[u64; 6]) -> Action {
        for layer in self.layers() {
            let then = layer
                .rules
                .iter()
                .find(|r| r.cmps.iter().all(|c| c.holds(word, args)))
                .map_or(layer.otherwise, |r| r.then);
            if let Then::Act(a) = then {
                return a;
            }
        }
        self.entry.fin
    }
}

/// The action a set of per-architecture filters gives to `data` (the meaning of a whole program):
/// an architecture not in the set is killed; on x86_64 the x32 bit selects the x32 filter.
pub fn evaluate(filters: &[ArchFilter], data: &SeccompData) -> Action {
    let x32_bit = data.nr & crate::arch::X32_SYSCALL_BIT != 0;
    let found = filters.iter().find(|f| {
        f.arch.audit == data.arch
            && (f.arch.audit != crate::arch::X86_64.audit || (f.arch.name == "x32") == x32_bit)
    });
    match found {
        Some(f) => f.evaluate(data.nr, &data.args),
        None => Action::KillProcess,
    }
}
