/**
 * A vault written for the related-notes and style-vector tests: two clearly different topics, six
 * short notes each, in the plain TinyStories language the embedded model was trained on — baking in
 * the kitchen, and the sea with boats and fish.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const KITCHEN: Record<string, string> = {
  'Kitchen/Cake.md': 'Mom and Lily baked a big cake in the kitchen. They mixed flour, sugar, butter and eggs in a bowl with a spoon. Mom put the cake in the hot oven. When the cake was done, Lily put sweet cream and cherries on top. The cake was soft and yummy, and they ate it with milk.',
  'Kitchen/Cookies.md': 'Ben wanted to bake cookies with his mom. They put butter, sugar and flour in a bowl and mixed it with a big spoon. Ben rolled the dough into little balls. The cookies baked in the oven. They came out hot and sweet, and the kitchen smelled of chocolate and sugar.',
  'Kitchen/Pie.md': 'Grandma made an apple pie in her kitchen. She cut the apples and put sugar on them. She put the apples in the dough and baked the pie in the oven. The kitchen smelled sweet. Tom ate a big piece of warm pie with cream, and he said it was yummy.',
  'Kitchen/Bread.md': 'Dad baked bread in the kitchen. He mixed flour, water and salt in a bowl and made a soft dough. The bread baked in the hot oven until it was brown. Mia put butter and jam on her warm bread. She ate it at the kitchen table with a cup of milk.',
  'Kitchen/Soup.md': 'Mom cooked soup in a big pot in the kitchen. She cut carrots, potatoes and onions with a knife and put them in the pot with water and salt. The soup cooked on the stove. It was hot, so Sam blew on his spoon before he ate. The soup was yummy.',
  'Kitchen/Pancakes.md': 'In the morning, Sue and her mom made pancakes in the kitchen. They mixed milk, eggs, sugar and flour in a bowl. Mom cooked the pancakes in a hot pan on the stove. Sue put butter and sweet honey on her pancakes. She ate them all and said they were yummy.',
};

export const SEA: Record<string, string> = {
  'Sea/Boat.md': 'Tim went on a boat with his dad. The boat sailed on the blue sea far from the shore. The waves went up and down and the wind blew the sail. Tim saw fish jump out of the water. A seagull flew over the boat. At sunset they sailed back to the beach.',
  'Sea/Fish.md': 'Anna looked into the sea and saw a little fish. The fish swam in the blue water near the rocks and the seaweed. It had shiny scales and a long tail. A big wave came and the fish swam deep under the water, where the sand was soft and the shells were pretty.',
  'Sea/Beach.md': 'Max played on the beach by the sea. He dug in the sand and found a pink shell. Big waves came to the shore and the water was cold on his feet. He saw a boat with a white sail far away on the ocean. A crab ran across the sand.',
  'Sea/Whale.md': 'A big whale swam in the ocean. It jumped out of the water and made a big splash. The waves rocked the ship, and the sailors on the deck waved at the whale. The whale swam under the ship and sang a song that went deep into the sea.',
  'Sea/Storm.md': 'The sky was dark over the sea. A storm came, the wind blew and the waves were big. The little boat rocked on the water, and the sailor held the rope tight. Rain fell on the deck. When the storm was over, the sea was calm and the boat sailed home to the shore.',
  'Sea/Crab.md': 'A small crab lived under a rock by the sea. When the waves came in, the crab hid in the wet sand. When the water went out, it walked on the beach and looked for shells and little fish. The crab liked the sound of the waves on the shore.',
};

/** Writes both topics (and nothing else) into `dir`, which must exist. */
export function writeTwoTopicVault(dir: string): void {
  for (const [path, text] of Object.entries({ ...KITCHEN, ...SEA })) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), `${text}\n`);
  }
}
