//! Upload profiles: what one kind of upload may be.

use std::time::Duration;

use serde::Deserialize;

use super::key_template::KeyTemplate;
use super::size::ByteSize;

/// How the bytes reach storage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum UploadMethod {
    /// One presigned `PUT`.
    Put,
    /// A browser form `POST` with a signed policy.
    Post,
    /// A multipart upload with presigned part URLs.
    Multipart,
}

impl UploadMethod {
    /// The name used in the API and the database.
    pub fn as_str(self) -> &'static str {
        match self {
            UploadMethod::Put => "put",
            UploadMethod::Post => "post",
            UploadMethod::Multipart => "multipart",
        }
    }

    /// Reads a name written by [`Self::as_str`].
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "put" => Some(UploadMethod::Put),
            "post" => Some(UploadMethod::Post),
            "multipart" => Some(UploadMethod::Multipart),
            _ => None,
        }
    }
}

/// A content type pattern: `image/png`, `image/*` or `*/*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentTypePattern {
    kind: String,
    /// `None` for `*`.
    subtype: Option<String>,
}

impl ContentTypePattern {
    /// Reads `type/subtype`, `type/*` or `*/*`.
    ///
    /// # Errors
    /// A message naming the pattern.
    pub fn parse(text: &str) -> Result<Self, String> {
        let lower = text.trim().to_ascii_lowercase();
        let Some((kind, subtype)) = lower.split_once('/') else {
            return Err(format!("content type pattern {text:?} must look like image/png or image/*"));
        };
        if kind == "*" && subtype == "*" {
            return Ok(Self { kind: "*".into(), subtype: None });
        }
        if !is_token(kind) || !(subtype == "*" || is_token(subtype)) {
            return Err(format!("content type pattern {text:?} must look like image/png or image/*"));
        }
        Ok(Self { kind: kind.to_owned(), subtype: (subtype != "*").then(|| subtype.to_owned()) })
    }

    /// Whether `content_type` (lower case, no parameters) matches.
    pub fn matches(&self, content_type: &str) -> bool {
        let Some((kind, subtype)) = content_type.split_once('/') else { return false };
        (self.kind == "*" || self.kind == kind) && self.subtype.as_deref().is_none_or(|s| s == subtype)
    }

    /// The common prefix every matching type starts with, for a POST
    /// policy's `starts-with` condition (`image/` for `image/*`, empty for
    /// `*/*`).
    pub fn prefix(&self) -> String {
        match (&self.subtype, self.kind.as_str()) {
            (_, "*") => String::new(),
            (None, kind) => format!("{kind}/"),
            (Some(subtype), kind) => format!("{kind}/{subtype}"),
        }
    }
}

impl std::fmt::Display for ContentTypePattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.kind, self.subtype.as_deref().unwrap_or("*"))
    }
}

impl<'de> Deserialize<'de> for ContentTypePattern {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// RFC 7230 `token` characters, as a content type's type and subtype use.
pub fn is_token(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
}

/// Whether an upload must declare a checksum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChecksumPolicy {
    /// A declared checksum is checked; none is fine.
    #[default]
    Optional,
    /// An upload without a checksum is refused.
    Required,
}

/// One kind of upload, as configured.
#[derive(Debug, Clone)]
pub struct Profile {
    /// Its name, as clients give it.
    pub name: String,
    /// Allowed content types.
    pub content_types: Vec<ContentTypePattern>,
    /// Smallest size accepted.
    pub min_size: u64,
    /// Largest size accepted.
    pub max_size: u64,
    /// Methods allowed, in order of preference.
    pub methods: Vec<UploadMethod>,
    /// How long a signed URL or form stays valid.
    pub grant_ttl: Duration,
    /// How long an upload may stay pending before the reaper removes what
    /// it left in storage.
    pub pending_ttl: Duration,
    /// Whether a checksum is required.
    pub checksum: ChecksumPolicy,
    /// How keys are made.
    pub key_template: KeyTemplate,
    /// The first part of every key of this profile (`{prefix}`).
    pub prefix: String,
    /// Where objects wait until verified (empty: they are uploaded to their
    /// final place directly).
    pub staging_prefix: String,
    /// Where verified objects go.
    pub final_prefix: String,
    /// Metadata names a client may set (`x-amz-meta-<name>`).
    pub metadata: Vec<String>,
    /// Part size of multipart uploads.
    pub part_size: u64,
    /// Files at least this large get multipart when the client states no
    /// preference.
    pub multipart_threshold: u64,
}

/// S3's limits on multipart uploads.
pub mod multipart_limits {
    /// The smallest part but the last.
    pub const MIN_PART_SIZE: u64 = 5 << 20;
    /// The largest part.
    pub const MAX_PART_SIZE: u64 = 5 << 30;
    /// The most parts.
    pub const MAX_PARTS: u64 = 10_000;
    /// The largest object.
    pub const MAX_OBJECT_SIZE: u64 = 5 << 40;
}

impl Profile {
    /// Whether `content_type` is allowed.
    pub fn allows_type(&self, content_type: &str) -> bool {
        self.content_types.iter().any(|p| p.matches(content_type))
    }

    /// The allowed types, for error messages: `image/*, application/pdf`.
    pub fn allowed_types(&self) -> String {
        self.content_types.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
    }

    /// The part size for a file of `size` bytes: the configured size, grown
    /// (in whole MiB) when the file would need more than 10 000 parts. Every
    /// part but the last has this size, as R2 requires.
    pub fn part_size_for(&self, size: u64) -> u64 {
        let needed = size.div_ceil(multipart_limits::MAX_PARTS).next_multiple_of(1 << 20);
        self.part_size.max(needed).clamp(multipart_limits::MIN_PART_SIZE, multipart_limits::MAX_PART_SIZE)
    }
}

/// A profile as written in the configuration file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileFile {
    content_types: Vec<ContentTypePattern>,
    #[serde(default)]
    min_size: Option<ByteSize>,
    max_size: ByteSize,
    #[serde(default)]
    methods: Option<Vec<UploadMethod>>,
    #[serde(default)]
    grant_ttl_seconds: Option<u64>,
    #[serde(default)]
    pending_ttl_seconds: Option<u64>,
    #[serde(default)]
    checksum: ChecksumPolicy,
    #[serde(default)]
    key_template: Option<String>,
    #[serde(default)]
    prefix: Option<String>,
    #[serde(default)]
    staging_prefix: Option<String>,
    #[serde(default)]
    final_prefix: Option<String>,
    #[serde(default)]
    metadata: Vec<String>,
    #[serde(default)]
    part_size: Option<ByteSize>,
    #[serde(default)]
    multipart_threshold: Option<ByteSize>,
}

impl ProfileFile {
    /// A profile allowing `content_types` up to `max_size`, defaults for the rest.
    pub fn new(content_types: &[&str], max_size: u64) -> Self {
        Self {
            content_types: content_types.iter().filter_map(|t| ContentTypePattern::parse(t).ok()).collect(),
            min_size: None,
            max_size: ByteSize(max_size),
            methods: None,
            grant_ttl_seconds: None,
            pending_ttl_seconds: None,
            checksum: ChecksumPolicy::Optional,
            key_template: None,
            prefix: None,
            staging_prefix: None,
            final_prefix: None,
            metadata: Vec::new(),
            part_size: None,
            multipart_threshold: None,
        }
    }

    /// Checks the values and fills in defaults.
    ///
    /// # Errors
    /// A message naming the profile and the field.
    pub fn build(self, name: &str) -> Result<Profile, String> {
        let bad = |what: String| format!("profile {name:?}: {what}");
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
            return Err(bad("a profile name uses only letters, digits, - and _".into()));
        }
        if self.content_types.is_empty() {
            return Err(bad("content_types must name at least one type (\"*/*\" allows any)".into()));
        }
        let min_size = self.min_size.map_or(1, |s| s.0);
        let max_size = self.max_size.0;
        if min_size > max_size {
            return Err(bad(format!("min_size {min_size} is larger than max_size {max_size}")));
        }
        if max_size > multipart_limits::MAX_OBJECT_SIZE {
            return Err(bad("max_size is larger than S3's largest object, 5 TiB".into()));
        }
        let methods =
            self.methods.unwrap_or_else(|| vec![UploadMethod::Put, UploadMethod::Post, UploadMethod::Multipart]);
        if methods.is_empty() {
            return Err(bad("methods must allow at least one of put, post, multipart".into()));
        }
        let grant_ttl = Duration::from_secs(self.grant_ttl_seconds.unwrap_or(900));
        if !(1..=consign_sigv4::MAX_EXPIRES_SECONDS).contains(&grant_ttl.as_secs()) {
            return Err(bad("grant_ttl_seconds must be between 1 and 604800 (7 days), as SigV4 allows".into()));
        }
        let pending_ttl = Duration::from_secs(self.pending_ttl_seconds.unwrap_or(24 * 3600));
        if pending_ttl < grant_ttl {
            return Err(bad("pending_ttl_seconds must be at least grant_ttl_seconds".into()));
        }
        let part_size = self.part_size.map_or(16 << 20, |s| s.0);
        if !(multipart_limits::MIN_PART_SIZE..=multipart_limits::MAX_PART_SIZE).contains(&part_size) {
            return Err(bad("part_size must be between 5 MiB and 5 GiB, as S3 requires".into()));
        }
        let key_template = KeyTemplate::parse(
            self.key_template.as_deref().unwrap_or("{prefix}/{yyyy}/{mm}/{dd}/{uuid}/{safe-filename}"),
        )
        .map_err(bad)?;
        for field in &self.metadata {
            if !is_token(field) || field.len() > 64 {
                return Err(bad(format!("metadata name {field:?} must be a short token (letters, digits, -, _)")));
            }
        }
        let clean = |prefix: Option<String>, default: &str| -> String {
            prefix.unwrap_or_else(|| default.to_owned()).trim_matches('/').to_owned()
        };
        Ok(Profile {
            name: name.to_owned(),
            content_types: self.content_types,
            min_size,
            max_size,
            methods,
            grant_ttl,
            pending_ttl,
            checksum: self.checksum,
            key_template,
            prefix: clean(self.prefix, name),
            staging_prefix: clean(self.staging_prefix, "staging"),
            final_prefix: clean(self.final_prefix, "files"),
            metadata: self.metadata.iter().map(|m| m.to_ascii_lowercase()).collect(),
            part_size,
            multipart_threshold: self.multipart_threshold.map_or(100 << 20, |s| s.0),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_types() {
        let image = ContentTypePattern::parse("image/*").unwrap();
        assert!(image.matches("image/png"));
        assert!(!image.matches("text/html"));
        assert_eq!(image.prefix(), "image/");
        let any = ContentTypePattern::parse("*/*").unwrap();
        assert!(any.matches("application/pdf"));
        assert_eq!(any.prefix(), "");
        assert!(ContentTypePattern::parse("image").is_err());
        assert!(ContentTypePattern::parse("ima ge/png").is_err());
    }

    #[test]
    fn part_size_grows_for_huge_files() {
        let profile = ProfileFile::new(&["*/*"], 5 << 40).build("big").unwrap();
        assert_eq!(profile.part_size_for(100 << 20), 16 << 20);
        let size = 1u64 << 40;
        let part = profile.part_size_for(size);
        assert!(size.div_ceil(part) <= 10_000);
        assert_eq!(part % (1 << 20), 0);
    }

    #[test]
    fn bad_profiles_are_refused_with_the_field_named() {
        let mut file = ProfileFile::new(&["image/*"], 10);
        file.min_size = Some(ByteSize(11));
        assert!(file.build("x").unwrap_err().contains("min_size"));
        assert!(ProfileFile::new(&["image/*"], 10).build("bad name").is_err());
    }
}
