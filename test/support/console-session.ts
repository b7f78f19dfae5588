import type { Browser, BrowserContext, Page } from 'playwright-core';

/**
 * A person at the console: a fresh browser context (own cookies and storage) in Vietnamese, signed in through the
 * login form as a user would. `errors` collects the page's uncaught errors, for tests to assert there were none.
 */
export async function openConsoleAs(
  browser: Browser,
  url: string,
  username: string,
  password: string,
  viewport = { width: 1600, height: 1000 },
): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport, locale: 'vi-VN' });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  await page.goto(url);
  await page.getByLabel('Tên đăng nhập').fill(username);
  await page.getByLabel('Mật khẩu').fill(password);
  await page.getByRole('button', { name: 'Đăng nhập' }).click();
  await page.locator('header.top nav').waitFor();
  return { context, page, errors };
}
