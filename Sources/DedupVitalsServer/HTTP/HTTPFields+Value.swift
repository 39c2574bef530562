import HTTPTypes

extension HTTPFields {
    /// The value of field `name`, as `self[name]` gives it, without building a new string when the field appears
    /// once (the usual case): `self[name]` joins the values of every field of that name, which allocates a string
    /// even for one. On the ingest path a request looks up four or five fields, and joined each one it carries;
    /// the joins were ~1.5 % of the service's CPU for single-event POSTs (docs/performance.md).
    func value(_ name: HTTPField.Name) -> String? {
        var found: String?
        for field in self where field.name == name {
            // A repeated field: joined, exactly as the subscript does.
            if found != nil { return self[name] }
            found = field.value
        }
        return found
    }
}
