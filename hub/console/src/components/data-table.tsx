import type { ComponentChildren } from 'preact';
import { type MessageKey, t } from '../i18n/index.js';

/**
 * A table of records as the console draws them: column headings from the catalogues, an optional last column of
 * buttons named only for screen readers, and a scrolling frame so a wide table never makes a phone scroll sideways.
 * `children` are the rows.
 */
export function DataTable(props: {
  columns: MessageKey[];
  actions?: MessageKey;
  testId?: string;
  children: ComponentChildren;
}) {
  return (
    <div class="table-scroll">
      <table class="data" data-testid={props.testId}>
        <thead>
          <tr>
            {props.columns.map((key) => (
              <th key={key} scope="col">
                {t(key)}
              </th>
            ))}
            {props.actions && (
              <th scope="col">
                <span class="sr-only">{t(props.actions)}</span>
              </th>
            )}
          </tr>
        </thead>
        <tbody>{props.children}</tbody>
      </table>
    </div>
  );
}
