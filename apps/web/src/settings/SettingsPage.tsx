// Where notifications go besides the dashboard itself: webhooks, ntfy, Telegram, email, and push
// notifications to this browser.
import { AccountOnly } from '../account/AccountOnly';
import { Destinations } from './Destinations';

export function SettingsPage() {
  return (
    <AccountOnly title="Notification settings" titleId="settings-title">
      <Destinations />
    </AccountOnly>
  );
}
