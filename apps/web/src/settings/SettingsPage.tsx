// Where notifications go besides the dashboard itself: the webhook, and push notifications to
// this browser.
import { AccountOnly } from '../account/AccountOnly';
import { Webhook } from './Webhook';

export function SettingsPage() {
  return (
    <AccountOnly title="Notification settings" titleId="settings-title">
      <Webhook />
    </AccountOnly>
  );
}
