import { useState } from "preact/hooks";
import { useApp, useAsync } from "../ctx";
import { deleteConfig, getConfig, setConfig, type ConfigVar } from "../api";
import { AppPage, ErrorBox, Loading, Time } from "../ui";
import { mask, validateConfigName } from "../data";

function VarForm({ initial, onSave, onCancel }: { initial?: ConfigVar; onSave: (n: string, v: string) => Promise<void>; onCancel?: () => void }) {
  const [name, setName] = useState(initial?.name ?? "");
  const [value, setValue] = useState(initial?.value ?? "");
  const [err, setErr] = useState<string>();
  const [busy, setBusy] = useState(false);
  const id = initial ? `edit-${initial.name}` : "new";
  return (
    <form
      class="varform"
      aria-label={initial ? `Edit ${initial.name}` : "Add a variable"}
      onSubmit={async (e) => {
        e.preventDefault();
        const bad = validateConfigName(name);
        if (bad) return setErr(bad);
        setBusy(true);
        setErr(undefined);
        try {
          await onSave(name, value);
          if (!initial) {
            setName("");
            setValue("");
          }
        } catch (x) {
          setErr((x as Error).message);
        } finally {
          setBusy(false);
        }
      }}
    >
      <label for={`${id}-name`}>Name</label>
      <input id={`${id}-name`} value={name} readOnly={!!initial} onInput={(e) => setName((e.target as HTMLInputElement).value)} autoComplete="off" spellcheck={false} />
      <label for={`${id}-value`}>Value</label>
      <input id={`${id}-value`} value={value} onInput={(e) => setValue((e.target as HTMLInputElement).value)} autoComplete="off" spellcheck={false} />
      <button type="submit" class="primary" disabled={busy}>
        {busy ? "Saving…" : initial ? "Save" : "Add"}
      </button>
      {onCancel && (
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      )}
      {err && (
        <p class="error-text" role="alert">
          {err}
        </p>
      )}
    </form>
  );
}

export function ConfigPage({ app: name }: { app: string }) {
  const { app, clients } = useApp(name);
  const vars = useAsync(async () => (app ? getConfig(clients!, app) : []), [name]);
  const [shown, setShown] = useState<Set<string>>(new Set());
  const [editing, setEditing] = useState<string>();
  const [confirm, setConfirm] = useState<string>();
  const [msg, setMsg] = useState<string>();
  const [err, setErr] = useState<Error>();
  if (!app) return <p role="alert">There is no app named {name} on this platform.</p>;
  const toggle = (n: string) => {
    const s = new Set(shown);
    if (s.has(n)) s.delete(n);
    else s.add(n);
    setShown(s);
  };
  const save = async (n: string, v: string) => {
    await setConfig(clients!, app, n, v);
    setEditing(undefined);
    setMsg(`Saved ${n}. The app restarts with the new configuration.`);
    vars.reload();
  };
  return (
    <AppPage app={name} title="Config">
      <p class="muted small">
        Environment variables of every process, stored as SecureString parameters under <code>{app.configPrefix}</code>. A change restarts the app.
      </p>
      {msg && (
        <p class="notice notice-ok" role="status">
          {msg}
        </p>
      )}
      {err && <ErrorBox error={err} />}
      {vars.error ? (
        <ErrorBox error={vars.error} />
      ) : vars.loading && !vars.data ? (
        <Loading what="config" />
      ) : (
        <table class="table config" aria-label="Config variables">
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Value</th>
              <th scope="col">Changed</th>
              <th scope="col">
                <span class="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {(vars.data ?? []).length === 0 && (
              <tr>
                <td colSpan={4} class="muted">
                  No variables yet.
                </td>
              </tr>
            )}
            {(vars.data ?? []).map((v) =>
              editing === v.name ? (
                <tr data-var={v.name}>
                  <td colSpan={4}>
                    <VarForm initial={v} onSave={save} onCancel={() => setEditing(undefined)} />
                  </td>
                </tr>
              ) : (
                <tr data-var={v.name}>
                  <th scope="row">
                    <code>{v.name}</code>
                  </th>
                  <td>
                    <code class="value">{shown.has(v.name) ? v.value : mask()}</code>
                  </td>
                  <td class="muted small">
                    <Time at={v.modified} />
                  </td>
                  <td class="actions">
                    {confirm === v.name ? (
                      <span role="group" aria-label={`Confirm deleting ${v.name}`}>
                        Delete {v.name}?{" "}
                        <button
                          class="danger"
                          onClick={async () => {
                            try {
                              await deleteConfig(clients!, app, v.name);
                              setConfirm(undefined);
                              setMsg(`Deleted ${v.name}. The app restarts with the new configuration.`);
                              vars.reload();
                            } catch (e) {
                              setErr(e as Error);
                            }
                          }}
                        >
                          Yes, delete
                        </button>{" "}
                        <button onClick={() => setConfirm(undefined)}>Cancel</button>
                      </span>
                    ) : (
                      <>
                        <button onClick={() => toggle(v.name)} aria-label={`${shown.has(v.name) ? "Hide" : "Reveal"} ${v.name}`}>
                          {shown.has(v.name) ? "Hide" : "Reveal"}
                        </button>{" "}
                        <button onClick={() => setEditing(v.name)} aria-label={`Edit ${v.name}`}>
                          Edit
                        </button>{" "}
                        <button class="danger" onClick={() => setConfirm(v.name)} aria-label={`Delete ${v.name}`}>
                          Delete
                        </button>
                      </>
                    )}
                  </td>
                </tr>
              ),
            )}
          </tbody>
        </table>
      )}
      {!vars.error && (
        <>
          <h2>Add a variable</h2>
          <VarForm onSave={save} />
        </>
      )}
    </AppPage>
  );
}
