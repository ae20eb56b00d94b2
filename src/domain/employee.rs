use serde::{Deserialize, Serialize};
use time::{Date, Duration, Month, OffsetDateTime, macros::format_description};

use super::{EmployeeId, Field, FieldErrors, PersonName, WorkEmail, phone_key};

/// The employee form as the browser sends it: every field a string, kept verbatim so that
/// a rejected form can be shown again with exactly what the user typed.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct EmployeeForm {
    pub employee_id: String,
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub hire_date: String,
    pub phone: String,
    pub date_of_birth: String,
    pub department_id: String,
    pub job_title: String,
    pub manager_id: String,
    pub status: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EmploymentStatus {
    #[default]
    Active,
    OnLeave,
    Terminated,
}

impl EmploymentStatus {
    /// The status a stored row names; the database's CHECK constraint allows only the
    /// three, so anything else reads as active.
    pub fn from_stored(text: &str) -> Self {
        Self::parse(text).unwrap_or_default()
    }

    pub const ALL: [EmploymentStatus; 3] = [Self::Active, Self::OnLeave, Self::Terminated];

    pub fn parse(raw: &str) -> Result<Self, String> {
        match raw.trim() {
            "" | "active" => Ok(Self::Active),
            "on_leave" => Ok(Self::OnLeave),
            "terminated" => Ok(Self::Terminated),
            _ => Err("Choose active, on leave or terminated.".into()),
        }
    }

    /// The spelling stored in the database and sent by forms.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::OnLeave => "on_leave",
            Self::Terminated => "terminated",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Active => "Active",
            Self::OnLeave => "On leave",
            Self::Terminated => "Terminated",
        }
    }
}

/// Optional free text (job title, phone): trimmed, and empty means absent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptionalText(Option<String>);

impl OptionalText {
    /// `rule` says in plain words which characters `allowed` lets through.
    fn parse(
        raw: &str,
        max_len: usize,
        allowed: impl Fn(char) -> bool,
        rule: &str,
    ) -> Result<Self, String> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Ok(Self(None));
        }
        if trimmed.chars().count() > max_len {
            return Err(format!("Use at most {max_len} characters."));
        }
        if !trimmed.chars().all(allowed) {
            return Err(rule.to_owned());
        }
        Ok(Self(Some(trimmed.to_owned())))
    }

    pub fn as_deref(&self) -> Option<&str> {
        self.0.as_deref()
    }

    /// Text the store holds, checked when it was written.
    pub fn from_stored(text: Option<String>) -> Self {
        Self(text.filter(|text| !text.trim().is_empty()))
    }
}

/// A phone number as written, with its international (E.164) form when it reads as
/// one: computed once, where the number is parsed or read, as comparing phones for
/// likely duplicates needs it on every write and parsing costs some 20 µs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone {
    text: OptionalText,
    international: Option<String>,
}

impl Phone {
    fn new(text: OptionalText) -> Self {
        let international = text.as_deref().and_then(phone_key);
        Self {
            text,
            international,
        }
    }

    pub fn as_deref(&self) -> Option<&str> {
        self.text.as_deref()
    }

    pub fn international(&self) -> Option<&str> {
        self.international.as_deref()
    }

    /// A stored number, with the key stored beside it; a row another tool wrote has
    /// none yet (NULL), and it is computed.
    pub fn from_stored(text: Option<String>, key: Option<String>) -> Self {
        match key {
            Some(key) => Self {
                text: OptionalText::from_stored(text),
                international: Some(key).filter(|key| !key.is_empty()),
            },
            None => Self::new(OptionalText::from_stored(text)),
        }
    }
}

/// An employee's record, valid in every field: what a form or a file row becomes, what
/// the store writes, and what it reads back. Uniqueness is not a property of one value,
/// so it is decided elsewhere, by the duplicate index and the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Employee {
    pub employee_id: EmployeeId,
    pub first_name: PersonName,
    pub last_name: PersonName,
    pub email: WorkEmail,
    pub hire_date: Date,
    pub phone: Phone,
    pub date_of_birth: Option<Date>,
    pub department_id: Option<i64>,
    pub job_title: OptionalText,
    pub manager_id: Option<EmployeeId>,
    pub status: EmploymentStatus,
}

impl Employee {
    pub fn full_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }

    pub fn status_label(&self) -> &'static str {
        self.status.label()
    }

    /// A leaver: the record stays, but no list of current staff shows it.
    pub fn has_left(&self) -> bool {
        self.status == EmploymentStatus::Terminated
    }
}

impl EmployeeForm {
    /// Each field with its text, in a file's column order: what the audit trail records
    /// and a CSV file holds.
    pub fn into_fields(self) -> [(Field, String); Field::ALL.len()] {
        [
            (Field::EmployeeId, self.employee_id),
            (Field::FirstName, self.first_name),
            (Field::LastName, self.last_name),
            (Field::Email, self.email),
            (Field::HireDate, self.hire_date),
            (Field::Phone, self.phone),
            (Field::DateOfBirth, self.date_of_birth),
            (Field::DepartmentId, self.department_id),
            (Field::JobTitle, self.job_title),
            (Field::ManagerId, self.manager_id),
            (Field::Status, self.status),
        ]
    }

    /// Where each field's text goes, for filling a form from named values (a file row).
    pub fn field_mut(&mut self, field: Field) -> &mut String {
        match field {
            Field::EmployeeId => &mut self.employee_id,
            Field::FirstName => &mut self.first_name,
            Field::LastName => &mut self.last_name,
            Field::Email => &mut self.email,
            Field::HireDate => &mut self.hire_date,
            Field::Phone => &mut self.phone,
            Field::DateOfBirth => &mut self.date_of_birth,
            Field::DepartmentId => &mut self.department_id,
            Field::JobTitle => &mut self.job_title,
            Field::ManagerId => &mut self.manager_id,
            Field::Status => &mut self.status,
        }
    }
}

/// The form that shows a record as it is: what an edit starts from.
impl From<&Employee> for EmployeeForm {
    fn from(employee: &Employee) -> Self {
        let text = |value: Option<&str>| value.unwrap_or_default().to_owned();
        Self {
            employee_id: employee.employee_id.to_string(),
            first_name: employee.first_name.to_string(),
            last_name: employee.last_name.to_string(),
            email: employee.email.to_string(),
            hire_date: employee.hire_date.to_string(),
            phone: text(employee.phone.as_deref()),
            date_of_birth: employee
                .date_of_birth
                .map(|d| d.to_string())
                .unwrap_or_default(),
            department_id: employee
                .department_id
                .map(|d| d.to_string())
                .unwrap_or_default(),
            job_title: text(employee.job_title.as_deref()),
            manager_id: employee
                .manager_id
                .as_ref()
                .map(EmployeeId::to_string)
                .unwrap_or_default(),
            status: employee.status.as_str().to_owned(),
        }
    }
}

impl TryFrom<&EmployeeForm> for Employee {
    type Error = FieldErrors;

    fn try_from(form: &EmployeeForm) -> Result<Self, Self::Error> {
        let today = OffsetDateTime::now_utc().date();
        let mut errors = FieldErrors::default();
        let employee_id = errors.check(Field::EmployeeId, EmployeeId::parse(&form.employee_id));
        let first_name = errors.check(Field::FirstName, PersonName::parse(&form.first_name));
        let last_name = errors.check(Field::LastName, PersonName::parse(&form.last_name));
        let email = errors.check(Field::Email, WorkEmail::parse(&form.email));
        let hire_date = errors.check(Field::HireDate, parse_hire_date(&form.hire_date, today));
        let phone = errors.check(Field::Phone, parse_phone(&form.phone));
        let date_of_birth = errors.check(
            Field::DateOfBirth,
            parse_date_of_birth(&form.date_of_birth, today),
        );
        let department_id = errors.check(
            Field::DepartmentId,
            parse_department_id(&form.department_id),
        );
        let job_title = errors.check(
            Field::JobTitle,
            OptionalText::parse(
                &form.job_title,
                100,
                |c| !c.is_control(),
                "Use one line of text, without tabs.",
            ),
        );
        let manager_id = errors.check(Field::ManagerId, parse_manager_id(&form.manager_id));
        let status = errors.check(Field::Status, EmploymentStatus::parse(&form.status));

        check_across_fields(
            &mut errors,
            (&employee_id, &hire_date),
            (&date_of_birth, &manager_id),
        );
        let built = (|| {
            Some(Employee {
                employee_id: employee_id?,
                first_name: first_name?,
                last_name: last_name?,
                email: email?,
                hire_date: hire_date?,
                phone: phone?,
                date_of_birth: date_of_birth?,
                department_id: department_id?,
                job_title: job_title?,
                manager_id: manager_id?,
                status: status?,
            })
        })();
        match built {
            Some(new) if errors.is_empty() => Ok(new),
            _ => Err(errors),
        }
    }
}

/// The rules that tie two fields together, checked once both parsed.
fn check_across_fields(
    errors: &mut FieldErrors,
    (employee_id, hire_date): (&Option<EmployeeId>, &Option<Date>),
    (date_of_birth, manager_id): (&Option<Option<Date>>, &Option<Option<EmployeeId>>),
) {
    if let (Some(Some(born)), Some(hired)) = (date_of_birth, hire_date)
        && born >= hired
    {
        errors.add(
            Field::DateOfBirth,
            "The date of birth must be before the hire date.",
        );
    }
    if let (Some(Some(manager)), Some(id)) = (manager_id, employee_id)
        && manager == id
    {
        errors.add(Field::ManagerId, "An employee cannot be their own manager.");
    }
}

/// A `YYYY-MM-DD` date. A date of the right shape that does not exist is told apart
/// from text that is no date at all, so that the message says what to change.
pub(super) fn parse_date(raw: &str) -> Result<Date, String> {
    let text = raw.trim();
    if let Ok(date) = Date::parse(text, format_description!("[year]-[month]-[day]")) {
        return Ok(date);
    }
    let shape = "Enter a date as YYYY-MM-DD, for example 2024-03-01.";
    let parts: Vec<&str> = text.split('-').collect();
    let [year, month, day] = parts.as_slice() else {
        return Err(shape.into());
    };
    let number = |part: &str, digits| {
        (part.len() == digits && part.bytes().all(|b| b.is_ascii_digit()))
            .then(|| part.parse::<u16>().ok())
            .flatten()
    };
    let (Some(year), Some(month), Some(day)) = (number(year, 4), number(month, 2), number(day, 2))
    else {
        return Err(shape.into());
    };
    let Ok(month) = Month::try_from(u8::try_from(month).unwrap_or(0)) else {
        return Err(format!("There is no month {month:02}: use 01 to 12."));
    };
    let year = i32::from(year);
    if day == 0 {
        return Err("There is no day 00: days start at 01.".into());
    }
    Err(format!("{month} {year} has {} days.", month.length(year)))
}

fn earliest_date() -> Date {
    time::macros::date!(1900 - 01 - 01)
}

fn parse_hire_date(raw: &str, today: Date) -> Result<Date, String> {
    if raw.trim().is_empty() {
        return Err("Enter the hire date.".into());
    }
    let date = parse_date(raw)?;
    if date < earliest_date() {
        return Err("The hire date must be in 1900 or later.".into());
    }
    if date > today + Duration::days(366) {
        return Err("The hire date can be at most a year ahead.".into());
    }
    Ok(date)
}

fn parse_date_of_birth(raw: &str, today: Date) -> Result<Option<Date>, String> {
    if raw.trim().is_empty() {
        return Ok(None);
    }
    let date = parse_date(raw)?;
    if date < earliest_date() || date >= today {
        return Err("Enter a date of birth between 1900 and today.".into());
    }
    Ok(Some(date))
}

/// What a phone number may hold, as the form's hint says it.
const PHONE_RULE: &str = "Use digits, spaces, +, - and brackets, for example +44 20 7946 0018.";

fn parse_phone(raw: &str) -> Result<Phone, String> {
    let phone = OptionalText::parse(
        raw,
        32,
        |c| c.is_ascii_digit() || matches!(c, ' ' | '+' | '-' | '(' | ')' | '.' | '/'),
        PHONE_RULE,
    )?;
    if phone
        .0
        .as_deref()
        .is_some_and(|p| !p.chars().any(|c| c.is_ascii_digit()))
    {
        return Err("A phone number needs digits.".into());
    }
    Ok(Phone::new(phone))
}

fn parse_department_id(raw: &str) -> Result<Option<i64>, String> {
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Ok(None);
    }
    match trimmed.parse::<i64>() {
        Ok(id) if id > 0 => Ok(Some(id)),
        _ => Err("No department has this name: choose one of the Departments page.".into()),
    }
}

fn parse_manager_id(raw: &str) -> Result<Option<EmployeeId>, String> {
    if raw.trim().is_empty() {
        return Ok(None);
    }
    EmployeeId::parse(raw).map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid_form() -> EmployeeForm {
        EmployeeForm {
            employee_id: " e-1001 ".into(),
            first_name: "Ann".into(),
            last_name: "Lee".into(),
            email: "Ann.Lee@Example.com".into(),
            hire_date: "2024-03-01".into(),
            ..EmployeeForm::default()
        }
    }

    #[test]
    fn a_valid_form_becomes_a_normalized_employee() {
        let employee = Employee::try_from(&valid_form()).unwrap();
        assert_eq!(employee.employee_id.as_str(), "E-1001");
        assert_eq!(employee.email.as_str(), "ann.lee@example.com");
        assert_eq!(employee.status, EmploymentStatus::Active);
        assert_eq!(employee.phone.as_deref(), None);
    }

    #[test]
    fn every_invalid_field_is_reported_at_once() {
        let form = EmployeeForm {
            employee_id: "!".into(),
            first_name: " ".into(),
            last_name: String::new(),
            email: "nope".into(),
            hire_date: "01/03/2024".into(),
            phone: "call me".into(),
            date_of_birth: "1800-01-01".into(),
            department_id: "x".into(),
            job_title: "a".repeat(101),
            manager_id: "?".into(),
            status: "retired".into(),
        };
        let errors = Employee::try_from(&form).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|(field, _)| field).collect();
        assert_eq!(fields.len(), 11, "{errors}");
    }

    #[test]
    fn a_date_that_does_not_exist_is_named_plainly() {
        for (typed, said) in [
            ("2024-02-30", "February 2024 has 29 days."),
            ("2023-02-29", "February 2023 has 28 days."),
            ("2024-04-31", "April 2024 has 30 days."),
            ("2024-13-01", "There is no month 13: use 01 to 12."),
            ("2024-01-00", "There is no day 00: days start at 01."),
            (
                "01/03/2024",
                "Enter a date as YYYY-MM-DD, for example 2024-03-01.",
            ),
            (
                "2024-3-1",
                "Enter a date as YYYY-MM-DD, for example 2024-03-01.",
            ),
        ] {
            assert_eq!(parse_date(typed).unwrap_err(), said, "{typed}");
        }
        assert_eq!(
            parse_date(" 2024-02-29 ").unwrap().to_string(),
            "2024-02-29"
        );
    }

    #[test]
    fn a_phone_with_letters_is_told_what_to_use() {
        assert_eq!(parse_phone("call me").unwrap_err(), PHONE_RULE);
    }

    #[test]
    fn birth_must_precede_hire_and_nobody_manages_themselves() {
        let form = EmployeeForm {
            date_of_birth: "2024-03-01".into(),
            manager_id: "E-1001".into(),
            ..valid_form()
        };
        let errors = Employee::try_from(&form).unwrap_err();
        assert!(errors.get(Field::DateOfBirth).is_some());
        assert!(errors.get(Field::ManagerId).is_some());
    }
}
