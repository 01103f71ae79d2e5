//! GitHub.
use crate::Report;
/// Renders GitHub.
pub fn render(_r: &Report) -> String {
    String::new()
}
