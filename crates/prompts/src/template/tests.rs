#![allow(clippy::unwrap_used)]

use super::*;
use serde_json::json;

fn render(src: &str, data: serde_json::Value) -> String {
    Template::compile(src)
        .unwrap()
        .render(&data, &HashMap::new())
        .unwrap()
}

#[test]
fn variables_are_not_html_escaped() {
    let out = render(
        "Say {{text}}, {{{text}}} and {{&text}}.",
        json!({"text": "<b>\"Tom & Jerry\"</b>"}),
    );
    assert_eq!(
        out,
        "Say <b>\"Tom & Jerry\"</b>, <b>\"Tom & Jerry\"</b> and <b>\"Tom & Jerry\"</b>."
    );
}

#[test]
fn sections_lists_inverted_and_dotted_names() {
    let src = "{{#items}}- {{name}} ({{qty}})\n{{/items}}{{^items}}nothing{{/items}}{{#user}}{{user.name}} {{/user}}{{#flag}}on{{/flag}}";
    let out = render(
        src,
        json!({"items": [{"name": "tea", "qty": 2}, {"name": "milk", "qty": 1.5}],
               "user": {"name": "Ana"}, "flag": true}),
    );
    assert_eq!(out, "- tea (2)\n- milk (1.5)\nAna on");
    assert_eq!(render(src, json!({"items": []})), "nothing");
}

#[test]
fn standalone_section_lines_leave_no_blank_lines() {
    let out = render(
        "Rules:\n{{#strict}}\nBe brief.\n{{/strict}}\nEnd\n",
        json!({"strict": true}),
    );
    assert_eq!(out, "Rules:\nBe brief.\nEnd\n");
}

#[test]
fn partials_are_filled_with_the_same_variables_unescaped() {
    let mut partials = HashMap::new();
    partials.insert(
        "signature".to_owned(),
        Template::compile("-- {{team}} <{{email}}>").unwrap(),
    );
    let t = Template::compile("Hi {{name}}\n{{> signature}}").unwrap();
    assert_eq!(t.partials().iter().collect::<Vec<_>>(), vec!["signature"]);
    let out = t
        .render(
            &json!({"name": "Bo", "team": "Support", "email": "help@x.test"}),
            &partials,
        )
        .unwrap();
    assert_eq!(out, "Hi Bo\n-- Support <help@x.test>");
}

#[test]
fn names_are_the_first_segments_of_variables_and_sections() {
    let t = Template::compile("{{a}} {{b.c}} {{#d}}{{.}}{{/d}} {{! e }} {{> f}}").unwrap();
    let names: Vec<&str> = t.names().iter().map(String::as_str).collect();
    assert_eq!(names, vec!["a", "b", "d"]);
}

#[test]
fn bad_templates_say_what_and_where() {
    let e = Template::compile("Hello {{name").unwrap_err();
    assert!(e.message.contains("not closed"), "{e}");
    let e = Template::compile("{{#a}}x").unwrap_err();
    assert!(!e.message.is_empty());
    let e = Template::compile("{{=<% %>=}}").unwrap_err();
    assert!(e.message.contains("set-delimiter"), "{e}");
    let e = Template::compile("{{/a}}").unwrap_err();
    assert!(!e.message.is_empty());
}

#[test]
fn text_without_tags_is_unchanged_including_trailing_space() {
    let src = "  plain text, { braces } and } ok  \n\n";
    assert_eq!(render(src, json!({})), src);
}

#[test]
fn top_level_variables_exclude_section_contents() {
    let t = Template::compile("{{a}} {{#list}}{{item}}{{/list}} {{^none}}{{b.c}}{{/none}} {{{d}}}")
        .unwrap();
    let top: Vec<&str> = t.top_level().iter().map(String::as_str).collect();
    assert_eq!(top, vec!["a", "d"]);
    assert!(!t.is_static());
    assert!(Template::compile("just text").unwrap().is_static());
}

#[test]
fn the_variables_only_path_prints_as_the_engine_does() {
    let src = "a {{s}} b {{{n}}} c {{&f}} d {{ t }} e {{u.v}} f {{missing}} g {{nul}} h {{big}}";
    let data = json!({"s": "<x> & \"y\"", "n": 3, "f": 2.5, "t": true, "u": {"v": "deep"},
                      "nul": null, "big": 18446744073709551615u64});
    let fast = Template::compile(src).unwrap();
    assert!(fast.plain.is_some());
    let engine = Template {
        plain: None,
        ..fast.clone()
    };
    assert_eq!(
        fast.render(&data, &HashMap::new()).unwrap(),
        engine.render(&data, &HashMap::new()).unwrap()
    );
    assert_eq!(
        fast.render(&data, &HashMap::new()).unwrap(),
        "a <x> & \"y\" b 3 c 2.5 d true e deep f  g  h 18446744073709552000"
    );
    // Sections, partials and comments take the engine.
    for src in ["{{#a}}x{{/a}}", "{{> p}}", "x {{! c }} y", "{{.}}"] {
        assert!(Template::compile(src).unwrap().plain.is_none(), "{src}");
    }
}
