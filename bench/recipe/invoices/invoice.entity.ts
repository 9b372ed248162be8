export class Invoice {
  id!: string;
  ownerId!: string;
  customerId!: string;
  status!: string;
  amount!: number;
  description!: string;
  dueDate!: string;
}

export class User {
  userId!: string;
  username!: string;
  isAdmin!: boolean;
}
