//! The import page and the CSV download. The work itself is in `crate::transfer`.

use actix_multipart::form::{MultipartForm, bytes::Bytes as UploadedBytes, text::Text};
use actix_web::http::header;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::error::{Refusal, render, render_refused};
use super::session::{Editor, Layout};
use super::{AppState, WebError};
use crate::domain::import::{COLUMNS, ImportRow};
use crate::transfer::{self, Exporter, ImportOptions, ImportReport, TransferError};

/// Largest file the import page takes: far above 100,000 rows.
pub const MAX_UPLOAD_BYTES: usize = 32 * 1024 * 1024;
/// Rows listed on the page; the command line reports every one.
const ROWS_SHOWN: usize = 1_000;

#[derive(MultipartForm)]
pub struct ImportUpload {
    #[multipart(limit = "32MB")]
    file: Option<UploadedBytes>,
    dry_run: Option<Text<String>>,
    accept_likely: Option<Text<String>>,
    create_departments: Option<Text<String>>,
}

pub struct RowView {
    pub line: u64,
    pub employee_id: String,
    pub outcome: &'static str,
    pub problems: Vec<String>,
    pub warnings: Vec<String>,
}

pub struct ReportView {
    pub summary: String,
    pub succeeded: bool,
    pub rows: Vec<RowView>,
    pub not_shown: usize,
}

impl From<&ImportReport> for ReportView {
    /// Rejected rows first: they are what the user has to act on.
    fn from(report: &ImportReport) -> Self {
        let view = |row: &ImportRow| RowView {
            line: row.line,
            employee_id: row.employee_id.clone(),
            outcome: report.outcome(row).as_str(),
            problems: row.problems.clone(),
            warnings: row.warnings.clone(),
        };
        let (rejected, valid): (Vec<&ImportRow>, Vec<&ImportRow>) = report
            .rows
            .iter()
            .partition(|row| !row.problems.is_empty() || !row.warnings.is_empty());
        let rows: Vec<RowView> = rejected
            .into_iter()
            .chain(valid)
            .take(ROWS_SHOWN)
            .map(view)
            .collect();
        Self {
            summary: report.summary(),
            succeeded: report.rejected() == 0 && report.held() == 0,
            not_shown: report.rows.len() - rows.len(),
            rows,
        }
    }
}

#[derive(Template)]
#[template(path = "employees/import.html")]
pub struct ImportPage {
    layout: Layout,
    error: Option<String>,
    report: Option<ReportView>,
    options: ImportOptions,
}

impl ImportPage {
    fn new(layout: Layout) -> Self {
        Self {
            layout,
            error: None,
            report: None,
            options: ImportOptions::default(),
        }
    }

    fn columns(&self) -> String {
        COLUMNS.join(",")
    }
}

pub async fn import_form(_: Editor, layout: Layout) -> Result<HttpResponse, WebError> {
    render(&ImportPage::new(layout))
}

/// The uploaded file, if one with content came; notes whether it is a dry run.
fn chosen_file(
    upload: Result<MultipartForm<ImportUpload>, actix_web::Error>,
    page: &mut ImportPage,
) -> Option<UploadedBytes> {
    let upload = upload.ok()?;
    page.options = ImportOptions {
        dry_run: upload.dry_run.is_some(),
        accept_likely: upload.accept_likely.is_some(),
        create_departments: upload.create_departments.is_some(),
    };
    upload
        .into_inner()
        .file
        .filter(|file| !file.data.is_empty())
}

pub async fn import(
    state: web::Data<AppState>,
    Editor(user): Editor,
    layout: Layout,
    upload: Result<MultipartForm<ImportUpload>, actix_web::Error>,
) -> Result<HttpResponse, WebError> {
    let mut page = ImportPage::new(layout);
    let Some(file) = chosen_file(upload, &mut page) else {
        page.error = Some("Choose a CSV file of at most 32 MB to import.".into());
        return render_refused(&page, Refusal::Invalid);
    };
    if page.options.create_departments && !user.role.is_admin() {
        return Err(WebError::Forbidden(
            "Only an administrator may create departments; import without that choice, \
             or ask an administrator to add them first.",
        ));
    }
    let imported = transfer::import(
        &state.registry,
        file.data,
        user.username.clone(),
        page.options,
    )
    .await;
    match imported {
        Ok(report) => {
            // The import is committed: a failed refresh must not hide its report (the
            // periodic refresh catches up).
            if report.imported > 0
                && !report.new_departments.is_empty()
                && let Err(error) = state.departments.refresh(state.store()).await
            {
                log::warn!("failed to refresh the departments after an import: {error}");
            }
            page.report = Some(ReportView::from(&report));
            render(&page)
        }
        Err(TransferError::File(error)) => {
            page.error = Some(format!("This file cannot be imported: {error}."));
            render_refused(&page, Refusal::Invalid)
        }
        Err(other) => Err(other.into()),
    }
}

/// Every record as a CSV download, read and sent a page at a time.
pub async fn export(state: web::Data<AppState>, _: Editor) -> Result<HttpResponse, WebError> {
    let exporter = Exporter::new(state.store().clone()).await?;
    let chunks = futures_util::stream::try_unfold(exporter, |mut exporter| async move {
        let chunk = exporter.next_chunk().await?;
        Ok::<_, TransferError>(chunk.map(|chunk| (web::Bytes::from(chunk), exporter)))
    });
    let today = time::OffsetDateTime::now_utc().date();
    Ok(HttpResponse::Ok()
        .content_type("text/csv; charset=utf-8")
        .insert_header((
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"employees-{today}.csv\""),
        ))
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .streaming(chunks))
}
