//! DNS record templates: TOML data files in `templates/`, embedded into the binary. Adding a
//! template is adding a file.

use std::collections::HashMap;

use rust_embed::RustEmbed;
use serde::{Deserialize, Serialize};

use crate::domain::ValidationError;
use crate::domain::record::RecordInput;

#[derive(RustEmbed)]
#[folder = "templates/"]
struct Files;

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Template {
    pub id: String,
    pub name: String,
    pub description: String,
    #[serde(default)]
    pub variables: Vec<Variable>,
    pub records: Vec<TemplateRecord>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Variable {
    pub name: String,
    pub description: String,
    #[serde(default)]
    pub required: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub example: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TemplateRecord {
    #[serde(rename = "type")]
    pub rtype: String,
    pub name: String,
    pub content: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<i64>,
    /// Created only when this (optional) variable is given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<String>,
}

#[derive(Debug, thiserror::Error)]
#[error("template {file}: {message}")]
pub struct TemplateError {
    file: String,
    message: String,
}

pub struct Library(Vec<Template>);

impl Library {
    /// Parses every embedded template; a broken file stops start-up rather than a user.
    pub fn embedded() -> Result<Self, TemplateError> {
        let mut templates = Vec::new();
        for file in Files::iter() {
            let bytes = Files::get(&file).map(|f| f.data.into_owned()).unwrap_or_default();
            let error = |message: String| TemplateError { file: file.to_string(), message };
            let text = String::from_utf8(bytes).map_err(|e| error(e.to_string()))?;
            let template: Template = toml::from_str(&text).map_err(|e| error(e.to_string()))?;
            templates.push(template);
        }
        templates.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(Self(templates))
    }

    pub fn all(&self) -> &[Template] {
        &self.0
    }

    /// The records a template makes with these variables, not yet validated against a zone.
    pub fn render(
        &self,
        template_id: &str,
        variables: &HashMap<String, String>,
    ) -> Result<Vec<RecordInput>, ValidationError> {
        let template = self
            .0
            .iter()
            .find(|t| t.id == template_id)
            .ok_or_else(|| ValidationError::new("template_id", format!("Unknown template '{template_id}'")))?;
        if let Some(unknown) = variables.keys().find(|k| !template.variables.iter().any(|v| &v.name == *k)) {
            return Err(ValidationError::new(
                "variables",
                format!("Template {template_id} has no variable '{unknown}'"),
            ));
        }
        let given = |name: &str| variables.get(name).filter(|v| !v.trim().is_empty());
        if let Some(missing) = template.variables.iter().find(|v| v.required && given(&v.name).is_none()) {
            return Err(ValidationError::new(
                &format!("variables.{}", missing.name),
                format!("Template {template_id} requires the variable '{}'", missing.name),
            ));
        }
        let fill = |text: &str| {
            variables.iter().fold(text.to_string(), |acc, (k, v)| acc.replace(&format!("{{{k}}}"), v.trim()))
        };
        Ok(template
            .records
            .iter()
            .filter(|r| r.when.as_deref().is_none_or(|w| given(w).is_some()))
            .map(|r| RecordInput {
                rtype: Some(r.rtype.clone()),
                name: Some(fill(&r.name)),
                content: Some(fill(&r.content)),
                ttl: r.ttl,
                priority: r.priority,
            })
            .collect())
    }
}
